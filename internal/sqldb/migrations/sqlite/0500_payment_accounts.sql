-- Real payment vendors (WeChat Pay, Alipay): each merchant's account is
-- sealed at rest (AES-256-GCM under SHELFLIVE_SECRET_KEY, bound to the
-- merchant and vendor); summary holds only what the admin may see again
-- (ids, key fingerprints). Intents remember how they were started (one
-- vendor order per intent and method), and refunds are rows of their own
-- so a partial refund is applied exactly once.
CREATE TABLE payment_accounts (
  merchant_id INTEGER NOT NULL,
  provider    TEXT NOT NULL,
  sealed      TEXT NOT NULL,
  summary     TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, provider)
);

ALTER TABLE payments ADD COLUMN method TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_pending ON payments(status, created_at);

CREATE TABLE refunds (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  order_id    INTEGER NOT NULL REFERENCES orders(id),
  payment_id  INTEGER NOT NULL REFERENCES payments(id),
  provider    TEXT NOT NULL,
  refund_no   TEXT NOT NULL UNIQUE,
  amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
  reason      TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL,   -- pending | succeeded | failed
  idem_key    TEXT NOT NULL,
  actor       TEXT NOT NULL,
  provider_ref TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  done_at     INTEGER,
  UNIQUE (merchant_id, idem_key)
);
CREATE INDEX refunds_order ON refunds(order_id);
CREATE INDEX refunds_pending ON refunds(status, created_at);
