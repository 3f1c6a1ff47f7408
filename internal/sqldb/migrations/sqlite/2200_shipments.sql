-- Shipments: the carrier and tracking number staff put on a delivery order
-- when it leaves (one per order; corrected in place until delivered), the
-- leader's polling state (next_poll_at: the lease a claimer moves ahead),
-- and the timeline: one row per provider or manual entry, unique per
-- (shipment, time, text) so a provider repeating its history, or two nodes
-- polling during a leader change, adds each entry once.
CREATE TABLE shipments (
  id            INTEGER PRIMARY KEY,
  merchant_id   INTEGER NOT NULL,
  order_id      INTEGER NOT NULL UNIQUE REFERENCES orders(id),
  store_id      INTEGER NOT NULL,
  carrier       TEXT NOT NULL,
  tracking_no   TEXT NOT NULL,
  stage         TEXT NOT NULL,
  shipped_at    INTEGER NOT NULL,
  shipped_by    TEXT NOT NULL DEFAULT '',
  delivered_at  INTEGER,
  next_poll_at  INTEGER,
  poll_failures INTEGER NOT NULL DEFAULT 0,
  polled_at     INTEGER,
  poll_error    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX shipments_poll ON shipments(next_poll_at);
CREATE INDEX shipments_merchant ON shipments(merchant_id, id);
CREATE TABLE shipment_events (
  id          INTEGER PRIMARY KEY,
  shipment_id INTEGER NOT NULL REFERENCES shipments(id),
  at          INTEGER NOT NULL,
  stage       TEXT NOT NULL,
  text        TEXT NOT NULL,
  location    TEXT NOT NULL DEFAULT '',
  source      TEXT NOT NULL,
  actor       TEXT NOT NULL DEFAULT '',
  UNIQUE (shipment_id, at, text)
);
