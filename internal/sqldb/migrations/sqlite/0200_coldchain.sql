-- Cold chain: watched locations, sensors, readings (compact chunks + 5-minute
-- rollups kept forever), alarms and the lots they hold, public trace codes.
-- Times are unix ms UTC; temperatures °C.

CREATE TABLE cc_locations (
  id            INTEGER PRIMARY KEY,
  merchant_id   INTEGER NOT NULL REFERENCES merchants(id),
  name          TEXT NOT NULL,
  name_en       TEXT NOT NULL DEFAULT '',
  kind          TEXT NOT NULL,               -- cold_room | truck | display_fridge | freezer | warehouse | shelf
  storage_class TEXT NOT NULL,               -- chilled | frozen | ambient
  store_id      INTEGER REFERENCES stores(id),
  gln           TEXT NOT NULL DEFAULT '',    -- normalised EPCIS bizLocation (GS1 Digital Link)
  created_at    INTEGER NOT NULL
);
CREATE INDEX cc_locations_merchant ON cc_locations(merchant_id, store_id);
CREATE INDEX cc_locations_gln ON cc_locations(merchant_id, gln) WHERE gln <> '';

-- device_key is the MQTT username and topic level: unique installation-wide.
CREATE TABLE cc_devices (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  device_key  TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  location_id INTEGER NOT NULL REFERENCES cc_locations(id),
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  last_seen   INTEGER
);
CREATE INDEX cc_devices_merchant ON cc_devices(merchant_id);

-- One row per device per flush: readings packed by coldchain.EncodeChunk
-- (~4 bytes each). The location is fixed at ingest so history survives a
-- device moving.
CREATE TABLE cc_chunks (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  device_id   INTEGER NOT NULL,
  location_id INTEGER NOT NULL,
  t_start     INTEGER NOT NULL,
  t_end       INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  data        BLOB NOT NULL
);
CREATE INDEX cc_chunks_location ON cc_chunks(location_id, t_start);
CREATE INDEX cc_chunks_end ON cc_chunks(t_end);

CREATE TABLE cc_rollups (
  device_id   INTEGER NOT NULL,
  bucket      INTEGER NOT NULL,               -- 5-minute bucket start
  merchant_id INTEGER NOT NULL,
  location_id INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  t_sum       REAL NOT NULL,
  t_min       REAL NOT NULL,
  t_max       REAL NOT NULL,
  arrh_sum    REAL NOT NULL,                  -- Σ exp(-ΔH/RT) for mean kinetic temperature
  PRIMARY KEY (device_id, bucket)
);
CREATE INDEX cc_rollups_location ON cc_rollups(location_id, bucket);

CREATE TABLE cc_alarms (
  id            INTEGER PRIMARY KEY,
  merchant_id   INTEGER NOT NULL REFERENCES merchants(id),
  location_id   INTEGER NOT NULL,
  device_id     INTEGER NOT NULL,
  kind          TEXT NOT NULL,                -- excursion | missing_data
  rule          TEXT NOT NULL,                -- critical | cumulative | gap
  storage_class TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  detected_at   INTEGER NOT NULL,
  cleared_at    INTEGER,
  peak          REAL NOT NULL DEFAULT 0,
  beyond_ms     INTEGER NOT NULL DEFAULT 0,
  status        TEXT NOT NULL,                -- open | cleared | resolved
  decision      TEXT NOT NULL DEFAULT '',     -- release | destroy
  decided_by    TEXT NOT NULL DEFAULT '',
  decided_at    INTEGER,
  note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cc_alarms_merchant ON cc_alarms(merchant_id, status, id);

CREATE TABLE cc_alarm_lots (
  alarm_id    INTEGER NOT NULL REFERENCES cc_alarms(id),
  lot_id      INTEGER NOT NULL REFERENCES lots(id),
  merchant_id INTEGER NOT NULL,
  held        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (alarm_id, lot_id)
);
CREATE INDEX cc_alarm_lots_lot ON cc_alarm_lots(lot_id);

-- Opaque public codes for /trace/{code}: guessing one lot's code tells
-- nothing about the next.
CREATE TABLE cc_lot_codes (
  code        TEXT PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  lot_id      INTEGER NOT NULL UNIQUE REFERENCES lots(id)
);
