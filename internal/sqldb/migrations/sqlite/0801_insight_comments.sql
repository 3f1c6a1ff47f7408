-- Product aliases (nicknames viewers use: "1号", "黄色那杯"), one per line,
-- and what each comment is about: the product it names (or the card pinned
-- when it was written), its intent and sentiment. answered_at is set when
-- the host answers a question (a staff comment about the same product, or
-- "answered" in the studio).
ALTER TABLE products ADD COLUMN aliases TEXT NOT NULL DEFAULT '';

CREATE TABLE comment_insights (
  comment_id  INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  room_id     INTEGER NOT NULL,
  product_id  INTEGER NOT NULL DEFAULT 0,
  sku_id      INTEGER NOT NULL DEFAULT 0,
  intent      TEXT NOT NULL,
  sentiment   TEXT NOT NULL,
  staff       INTEGER NOT NULL DEFAULT 0,
  at          INTEGER NOT NULL,
  answered_at INTEGER
);
CREATE INDEX comment_insights_room ON comment_insights(room_id, product_id, at);
