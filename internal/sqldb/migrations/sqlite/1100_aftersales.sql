-- After-sales (售后): requests a customer makes after paying, the merchant's
-- decision and the refund it records (refund_no: the one refund of the
-- request, idempotency key "aftersale:<id>"), and stock_writeoffs: units
-- that came back and were written off (fresh food is not resold), or put
-- back on sale (restocked, ambient goods received back).
CREATE TABLE aftersales (
  id             INTEGER PRIMARY KEY,
  merchant_id    INTEGER NOT NULL,
  order_id       INTEGER NOT NULL REFERENCES orders(id),
  customer_id    INTEGER NOT NULL,
  store_id       INTEGER NOT NULL,
  kind           TEXT NOT NULL,   -- refund_only | return_refund | quality
  reason         TEXT NOT NULL,
  note           TEXT NOT NULL DEFAULT '',
  photos         TEXT NOT NULL DEFAULT '[]', -- JSON list of /uploads/ paths
  lines          TEXT NOT NULL DEFAULT '[]', -- JSON list of {sku_id, quantity}
  amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
  status         TEXT NOT NULL,   -- requested | refunding | refunded | refund_failed | rejected | withdrawn
  before_handover INTEGER NOT NULL DEFAULT 0,
  review_by      INTEGER NOT NULL,
  decided_by     TEXT NOT NULL DEFAULT '',
  decision_note  TEXT NOT NULL DEFAULT '',
  decided_at     INTEGER,
  refund_no      TEXT NOT NULL DEFAULT '',
  refunded_at    INTEGER,
  stock          TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL
);
CREATE INDEX aftersales_order ON aftersales(order_id);
CREATE INDEX aftersales_open ON aftersales(status, review_by);
CREATE INDEX aftersales_merchant ON aftersales(merchant_id, id);
CREATE INDEX aftersales_refund ON aftersales(refund_no);

CREATE TABLE stock_writeoffs (
  id           INTEGER PRIMARY KEY,
  merchant_id  INTEGER NOT NULL,
  store_id     INTEGER NOT NULL,
  lot_id       INTEGER NOT NULL,
  sku_id       INTEGER NOT NULL,
  quantity     INTEGER NOT NULL CHECK (quantity > 0),
  action       TEXT NOT NULL,   -- written_off | restocked
  reason       TEXT NOT NULL,
  aftersale_id INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (aftersale_id, lot_id)
);
CREATE INDEX stock_writeoffs_lot ON stock_writeoffs(lot_id);
