-- Polls in a room: one question, 2–6 options with their counts, one vote
-- per customer (the unique key is the rule), results kept after closing.
CREATE TABLE polls (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  room_id     INTEGER NOT NULL REFERENCES rooms(id),
  question    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  votes       INTEGER NOT NULL DEFAULT 0,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  closes_at   INTEGER,
  closed_at   INTEGER
);
CREATE INDEX polls_room ON polls(room_id, id);
-- at most one open poll per room
CREATE UNIQUE INDEX polls_one_open ON polls(room_id) WHERE status = 'open';

CREATE TABLE poll_options (
  id         INTEGER PRIMARY KEY,
  poll_id    INTEGER NOT NULL REFERENCES polls(id),
  position   INTEGER NOT NULL,
  text       TEXT NOT NULL,
  product_id INTEGER NOT NULL DEFAULT 0,
  votes      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX poll_options_poll ON poll_options(poll_id, position);

CREATE TABLE poll_votes (
  poll_id     INTEGER NOT NULL REFERENCES polls(id),
  customer_id INTEGER NOT NULL,
  option_id   INTEGER NOT NULL REFERENCES poll_options(id),
  at          INTEGER NOT NULL,
  PRIMARY KEY (poll_id, customer_id)
);
