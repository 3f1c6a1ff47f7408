-- EPCIS 2.0 repository: captured events (JSON as sent) plus the columns and
-- side tables the REST query parameters filter on. Times are unix ms UTC.
-- Every index starts with merchant_id: queries are always tenant-scoped.

CREATE TABLE epcis_capture_jobs (
  id           INTEGER PRIMARY KEY,
  public_id    TEXT NOT NULL UNIQUE,
  merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
  created_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  running      INTEGER NOT NULL DEFAULT 0,
  success      INTEGER NOT NULL DEFAULT 0,
  event_count  INTEGER NOT NULL DEFAULT 0,
  stored       INTEGER NOT NULL DEFAULT 0,
  duplicates   INTEGER NOT NULL DEFAULT 0,
  declared     INTEGER NOT NULL DEFAULT 0,
  errors       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX epcis_capture_jobs_merchant ON epcis_capture_jobs(merchant_id, created_at);

CREATE TABLE epcis_events (
  id                INTEGER PRIMARY KEY,           -- capture order; tie-breaker of the result order
  merchant_id       INTEGER NOT NULL REFERENCES merchants(id),
  event_id          TEXT NOT NULL,
  hash_id           TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  event_time        INTEGER NOT NULL,
  record_time       INTEGER NOT NULL,
  action            TEXT NOT NULL DEFAULT '',
  biz_step          TEXT NOT NULL DEFAULT '',
  disposition       TEXT NOT NULL DEFAULT '',
  read_point        TEXT NOT NULL DEFAULT '',
  biz_location      TEXT NOT NULL DEFAULT '',
  transformation_id TEXT NOT NULL DEFAULT '',
  has_sensor        INTEGER NOT NULL DEFAULT 0,
  error_declared_at INTEGER,                       -- set when an errorDeclaration marked the event erroneous
  error_reason      TEXT NOT NULL DEFAULT '',
  capture_job       INTEGER NOT NULL,
  context           TEXT,                          -- inline @context entries of the capturing document (JSON array)
  body              TEXT NOT NULL                  -- the event JSON (without recordTime, added when read)
);
CREATE UNIQUE INDEX epcis_events_event_id ON epcis_events(merchant_id, event_id);
CREATE INDEX epcis_events_time ON epcis_events(merchant_id, event_time, id);
CREATE INDEX epcis_events_record_time ON epcis_events(merchant_id, record_time, id);
CREATE INDEX epcis_events_biz_step ON epcis_events(merchant_id, biz_step, event_time, id);
CREATE INDEX epcis_events_disposition ON epcis_events(merchant_id, disposition, event_time, id);
CREATE INDEX epcis_events_read_point ON epcis_events(merchant_id, read_point, event_time, id);
CREATE INDEX epcis_events_biz_location ON epcis_events(merchant_id, biz_location, event_time, id);

-- Identifiers in an event and their role (epc, child, parent, input, output,
-- qty, cqty, iqty, oqty), as constrained canonical GS1 Digital Link URIs.
CREATE TABLE epcis_event_epcs (
  event       INTEGER NOT NULL REFERENCES epcis_events(id),
  merchant_id INTEGER NOT NULL,
  role        TEXT NOT NULL,
  epc         TEXT NOT NULL,
  quantity    REAL,
  uom         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX epcis_event_epcs_epc ON epcis_event_epcs(merchant_id, epc, role, event);
CREATE INDEX epcis_event_epcs_event ON epcis_event_epcs(event);

-- Business transactions (kind bt), sources (src) and destinations (dst).
CREATE TABLE epcis_event_links (
  event       INTEGER NOT NULL REFERENCES epcis_events(id),
  merchant_id INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  type        TEXT NOT NULL DEFAULT '',
  ref         TEXT NOT NULL
);
CREATE INDEX epcis_event_links_ref ON epcis_event_links(merchant_id, kind, ref, type, event);
CREATE INDEX epcis_event_links_event ON epcis_event_links(event);

-- Sensor reports with numeric values in the canonical unit of their dimension.
CREATE TABLE epcis_sensor_reports (
  event       INTEGER NOT NULL REFERENCES epcis_events(id),
  merchant_id INTEGER NOT NULL,
  type        TEXT NOT NULL DEFAULT '',
  device_id   TEXT NOT NULL DEFAULT '',
  uom         TEXT NOT NULL DEFAULT '',
  value       REAL,
  min_value   REAL,
  max_value   REAL,
  mean_value  REAL,
  time        INTEGER
);
CREATE INDEX epcis_sensor_reports_value ON epcis_sensor_reports(merchant_id, type, uom, value, event);
CREATE INDEX epcis_sensor_reports_event ON epcis_sensor_reports(event);
