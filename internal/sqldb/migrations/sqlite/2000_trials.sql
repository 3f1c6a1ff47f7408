-- New-product trials (内测, issue 20): a campaign with a quota and an
-- application form, one application per person (the primary key), a
-- commit-reveal selection (the seed's SHA-256 public while open, the seed
-- after; internal/trials), zero-price sample orders (orders.trial_id) and
-- one feedback per chosen tester.
ALTER TABLE orders ADD COLUMN trial_id INTEGER;
CREATE INDEX orders_trial ON orders(trial_id) WHERE trial_id IS NOT NULL;

CREATE TABLE trials (
  id             INTEGER PRIMARY KEY,
  merchant_id    INTEGER NOT NULL REFERENCES merchants(id),
  title          TEXT NOT NULL,
  description    TEXT NOT NULL DEFAULT '',
  sku_id         INTEGER NOT NULL REFERENCES skus(id),
  quota          INTEGER NOT NULL CHECK (quota BETWEEN 1 AND 1000),
  questions      TEXT NOT NULL DEFAULT '[]',   -- JSON: the application form
  segment        TEXT NOT NULL DEFAULT '',     -- JSON members.Segment, '' for everyone
  group_id       INTEGER REFERENCES fan_groups(id),
  room_id        INTEGER REFERENCES rooms(id),
  fulfilment     TEXT NOT NULL CHECK (fulfilment IN ('pickup', 'delivery')),
  store_id       INTEGER REFERENCES stores(id),
  selection      TEXT NOT NULL CHECK (selection IN ('random', 'group_first')),
  feedback_days  INTEGER NOT NULL,
  public_result  BOOLEAN NOT NULL DEFAULT FALSE,
  seed           TEXT NOT NULL,
  commitment     TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('open', 'selected')),
  opens_at       INTEGER NOT NULL,
  closes_at      INTEGER NOT NULL,
  selected_at    INTEGER,
  created_at     INTEGER NOT NULL
);
CREATE INDEX trials_merchant ON trials(merchant_id, id);
CREATE INDEX trials_open ON trials(status, closes_at) WHERE status = 'open';

CREATE TABLE trial_applications (
  trial_id      INTEGER NOT NULL REFERENCES trials(id),
  customer_id   INTEGER NOT NULL REFERENCES customers(id),
  answers       TEXT NOT NULL DEFAULT '{}',
  contact_name  TEXT NOT NULL DEFAULT '',
  address       TEXT NOT NULL DEFAULT '',
  device        TEXT NOT NULL DEFAULT '',
  applied_at    INTEGER NOT NULL,
  excluded      TEXT NOT NULL DEFAULT '',
  tier          INTEGER NOT NULL DEFAULT 0,
  position      INTEGER NOT NULL DEFAULT 0,
  order_id      INTEGER REFERENCES orders(id),
  PRIMARY KEY (trial_id, customer_id)
);
CREATE INDEX trial_applications_customer ON trial_applications(customer_id);

CREATE TABLE trial_feedback (
  trial_id     INTEGER NOT NULL REFERENCES trials(id),
  customer_id  INTEGER NOT NULL REFERENCES customers(id),
  taste        INTEGER NOT NULL CHECK (taste BETWEEN 1 AND 5),
  texture      INTEGER NOT NULL CHECK (texture BETWEEN 1 AND 5),
  price        INTEGER NOT NULL CHECK (price BETWEEN 1 AND 5),
  repurchase   INTEGER NOT NULL CHECK (repurchase BETWEEN 1 AND 5),
  text         TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (trial_id, customer_id)
);
