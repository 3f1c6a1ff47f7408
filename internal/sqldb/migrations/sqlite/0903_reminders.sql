-- Reminders: who subscribed (预约) to which live, and each viewer's inbox.
-- The inbox's (customer_id, dedupe_key) key makes every reminder exactly
-- once, whichever node writes it and however often the job runs.
CREATE TABLE room_subscriptions (
  room_id     INTEGER NOT NULL REFERENCES rooms(id),
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  merchant_id INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (room_id, customer_id)
);

CREATE TABLE inbox (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  room_id     INTEGER NOT NULL DEFAULT 0,
  title       TEXT NOT NULL,
  body        TEXT NOT NULL,
  body_en     TEXT NOT NULL DEFAULT '',
  url         TEXT NOT NULL,
  dedupe_key  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  read_at     INTEGER,
  UNIQUE (customer_id, dedupe_key)
);
CREATE INDEX inbox_customer ON inbox(customer_id, id);
