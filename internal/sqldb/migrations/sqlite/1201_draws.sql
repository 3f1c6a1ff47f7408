-- 福袋 draws (issue 18): entries by a comment keyword, a like or a follow,
-- once per person (the primary key); the seed's SHA-256 is public from the
-- start, the seed itself only after the draw; winners are recomputable from
-- the seed and the eligible entries (internal/draws, docs/PROTOCOL.md).
CREATE TABLE draws (
  id              INTEGER PRIMARY KEY,
  merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
  room_id         INTEGER NOT NULL REFERENCES rooms(id),
  title           TEXT NOT NULL,
  entry           TEXT NOT NULL CHECK (entry IN ('comment', 'like', 'follow')),
  keyword         TEXT NOT NULL DEFAULT '',
  winners         INTEGER NOT NULL,
  prize_kind      TEXT NOT NULL CHECK (prize_kind IN ('coupon', 'free_sku')),
  prize_coupon_id INTEGER,
  prize_sku_id    INTEGER,
  prize_store_id  INTEGER,
  seed            TEXT NOT NULL,
  commitment      TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('open', 'drawn')),
  opens_at        INTEGER NOT NULL,
  closes_at       INTEGER NOT NULL,
  drawn_at        INTEGER,
  created_by      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL
);
CREATE INDEX draws_room ON draws(room_id, id);
CREATE INDEX draws_open ON draws(status, closes_at) WHERE status = 'open';

CREATE TABLE draw_entries (
  draw_id      INTEGER NOT NULL REFERENCES draws(id),
  customer_id  INTEGER NOT NULL,
  via          TEXT NOT NULL,
  device       TEXT NOT NULL DEFAULT '',
  entered_at   INTEGER NOT NULL,
  excluded     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (draw_id, customer_id)
);

CREATE TABLE draw_winners (
  draw_id      INTEGER NOT NULL REFERENCES draws(id),
  customer_id  INTEGER NOT NULL,
  position     INTEGER NOT NULL,
  claim_id     INTEGER,
  order_id     INTEGER,
  PRIMARY KEY (draw_id, customer_id)
);
