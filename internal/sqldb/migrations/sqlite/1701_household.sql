-- Household devices (smart fridge, pantry) a customer linked with consent,
-- their readings, the consumption estimate per household and category, and
-- the pushes sent before a category runs out. household_pushes' unique
-- (customer, category, bucket) makes each push once per CategoryGap window
-- whichever node runs the job.
CREATE TABLE household_devices (
  id           INTEGER PRIMARY KEY,
  merchant_id  INTEGER NOT NULL,
  customer_id  INTEGER NOT NULL REFERENCES customers(id),
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL,
  token_hash   TEXT NOT NULL UNIQUE,
  consent_at   INTEGER NOT NULL,
  revoked_at   INTEGER,
  last_seen_at INTEGER,
  created_at   INTEGER NOT NULL
);
CREATE INDEX household_devices_customer ON household_devices(merchant_id, customer_id);

CREATE TABLE household_readings (
  id        INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES household_devices(id),
  category  TEXT NOT NULL,
  level     REAL NOT NULL,
  at        INTEGER NOT NULL
);
CREATE INDEX household_readings_device ON household_readings(device_id, at);

CREATE TABLE household_estimates (
  merchant_id  INTEGER NOT NULL,
  customer_id  INTEGER NOT NULL,
  category     TEXT NOT NULL,
  level        REAL NOT NULL,
  level_at     INTEGER NOT NULL,
  anchor_level REAL NOT NULL,
  anchor_at    INTEGER NOT NULL,
  rate         REAL NOT NULL,
  samples      INTEGER NOT NULL,
  runout_at    INTEGER,
  PRIMARY KEY (customer_id, category)
);
CREATE INDEX household_estimates_runout ON household_estimates(runout_at);

CREATE TABLE household_pushes (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  category    TEXT NOT NULL,
  bucket      INTEGER NOT NULL,
  token       TEXT NOT NULL UNIQUE,
  title       TEXT NOT NULL,
  url         TEXT NOT NULL,
  room_id     INTEGER NOT NULL DEFAULT 0,
  product_id  INTEGER NOT NULL DEFAULT 0,
  runout_at   INTEGER NOT NULL,
  sent_at     INTEGER NOT NULL,
  opened_at   INTEGER,
  UNIQUE (customer_id, category, bucket)
);
CREATE INDEX household_pushes_customer ON household_pushes(customer_id, sent_at);
CREATE INDEX household_pushes_merchant ON household_pushes(merchant_id, sent_at);

CREATE TABLE household_optouts (
  customer_id INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  at          INTEGER NOT NULL
);
