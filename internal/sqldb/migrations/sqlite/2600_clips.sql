-- Clips: each product's explanation in a live, cut from the recording
-- without re-encoding (internal/clips). One row per pin of a product
-- (room_id, pinned_at); the span is [pinned_at − lead, the next pin or
-- unpin]; status pending → ready | failed. Unpins are rows of room_pins
-- with product_id 0.
CREATE TABLE clips (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  room_id     INTEGER NOT NULL REFERENCES rooms(id),
  product_id  INTEGER NOT NULL,
  pinned_at   INTEGER NOT NULL,
  span_from   INTEGER NOT NULL,
  span_to     INTEGER NOT NULL,
  title       TEXT NOT NULL DEFAULT '',
  hidden      BOOLEAN NOT NULL DEFAULT FALSE,
  status      TEXT NOT NULL DEFAULT 'pending',
  object_key  TEXT NOT NULL DEFAULT '',
  media_from  INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  bytes       INTEGER NOT NULL DEFAULT 0,
  video_codec TEXT NOT NULL DEFAULT '',
  width       INTEGER NOT NULL DEFAULT 0,
  height      INTEGER NOT NULL DEFAULT 0,
  audio_codec TEXT NOT NULL DEFAULT '',
  error       TEXT NOT NULL DEFAULT '',
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (room_id, pinned_at)
);
CREATE INDEX clips_merchant_product ON clips(merchant_id, product_id);
CREATE INDEX clips_pending ON clips(status, updated_at);
