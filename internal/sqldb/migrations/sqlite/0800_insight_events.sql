-- insight_events is the room's analytics record, written in batches off the
-- hot path (internal/insight.Recorder): viewer sessions (view_start,
-- view_end with the watch time in value), card_shown / card_open /
-- checkout per product, shares with the sharer's code, likes per second.
-- visitor is the viewer's first-party id (cookie sl_vid), session one
-- WebSocket connection.
CREATE TABLE insight_events (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  room_id     INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  visitor     TEXT NOT NULL DEFAULT '',
  session     TEXT NOT NULL DEFAULT '',
  product_id  INTEGER NOT NULL DEFAULT 0,
  code        TEXT NOT NULL DEFAULT '',
  value       INTEGER NOT NULL DEFAULT 0,
  at          INTEGER NOT NULL
);
CREATE INDEX insight_events_room ON insight_events(room_id, kind, at);
CREATE INDEX insight_events_visitor ON insight_events(merchant_id, visitor, at);
