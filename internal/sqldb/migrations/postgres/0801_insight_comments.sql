-- Product aliases and comment insights (PostgreSQL twin of sqlite/0801_insight_comments.sql).
ALTER TABLE products ADD COLUMN aliases TEXT NOT NULL DEFAULT '';

CREATE TABLE comment_insights (
  comment_id  BIGINT PRIMARY KEY,
  merchant_id BIGINT NOT NULL,
  room_id     BIGINT NOT NULL,
  product_id  BIGINT NOT NULL DEFAULT 0,
  sku_id      BIGINT NOT NULL DEFAULT 0,
  intent      TEXT NOT NULL,
  sentiment   TEXT NOT NULL,
  staff       BOOLEAN NOT NULL DEFAULT FALSE,
  at          BIGINT NOT NULL,
  answered_at BIGINT
);
CREATE INDEX comment_insights_room ON comment_insights(room_id, product_id, at);
