-- Reminder channels beyond the inbox: browsers' Web Push subscriptions,
-- each viewer's channel choices, and one delivery per (inbox message,
-- channel) — its key is the exactly-once rule, as the inbox's is for the
-- reminder itself.
CREATE TABLE push_subscriptions (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  endpoint    TEXT NOT NULL UNIQUE,
  p256dh      TEXT NOT NULL,
  auth        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_customer ON push_subscriptions(customer_id);

CREATE TABLE notify_prefs (
  customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
  merchant_id INTEGER NOT NULL,
  push_off    INTEGER NOT NULL DEFAULT 0,
  sms_on      INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE notify_deliveries (
  inbox_id    INTEGER NOT NULL,
  channel     TEXT NOT NULL,
  merchant_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  state       TEXT NOT NULL DEFAULT 'pending', -- pending | sent | failed
  due_at      INTEGER NOT NULL,                -- also moved ahead while a sender holds it
  attempts    INTEGER NOT NULL DEFAULT 0,
  sent_at     INTEGER,
  last_error  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (inbox_id, channel)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries(state, due_at);
CREATE INDEX inbox_dedupe ON inbox(dedupe_key, created_at);
