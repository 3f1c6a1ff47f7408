-- Core schema: tenants, people, catalog, stores, stock, rooms, orders.
-- Times are unix milliseconds UTC; money is integer fen.

CREATE TABLE merchants (
  id          INTEGER PRIMARY KEY,
  slug        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  name_en     TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);

CREATE TABLE staff (
  id            INTEGER PRIMARY KEY,
  merchant_id   INTEGER NOT NULL REFERENCES merchants(id),
  username      TEXT NOT NULL,
  phone         TEXT NOT NULL DEFAULT '',
  name          TEXT NOT NULL,
  role          TEXT NOT NULL,
  store_id      INTEGER,
  guide_code    TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX staff_username ON staff(username);
CREATE INDEX staff_merchant ON staff(merchant_id);

CREATE TABLE customers (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  phone       TEXT NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  UNIQUE (merchant_id, phone)
);

-- sessions hold browser logins (staff or customer) and API tokens; only hashes are stored.
CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL,            -- staff | customer | token
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  subject_id  INTEGER NOT NULL,         -- staff.id or customers.id
  role        TEXT NOT NULL,
  csrf        TEXT NOT NULL DEFAULT '',
  label       TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);

CREATE TABLE otps (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  phone       TEXT NOT NULL,
  code_hash   TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
);
CREATE INDEX otps_phone ON otps(merchant_id, phone, created_at);

CREATE TABLE stores (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  name        TEXT NOT NULL,
  name_en     TEXT NOT NULL DEFAULT '',
  address     TEXT NOT NULL,
  lat         REAL NOT NULL,
  lng         REAL NOT NULL,
  phone       TEXT NOT NULL DEFAULT '',
  hours       TEXT NOT NULL DEFAULT '',
  delivery    INTEGER NOT NULL DEFAULT 0, -- ships delivery orders
  created_at  INTEGER NOT NULL
);
CREATE INDEX stores_merchant ON stores(merchant_id);

CREATE TABLE products (
  id           INTEGER PRIMARY KEY,
  merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
  name         TEXT NOT NULL,
  name_en      TEXT NOT NULL DEFAULT '',
  subtitle     TEXT NOT NULL DEFAULT '',
  description  TEXT NOT NULL DEFAULT '',
  image        TEXT NOT NULL DEFAULT '',
  specs        TEXT NOT NULL DEFAULT '',
  ingredients  TEXT NOT NULL DEFAULT '',
  allergens    TEXT NOT NULL DEFAULT '',
  origin       TEXT NOT NULL DEFAULT '',
  storage      TEXT NOT NULL DEFAULT 'ambient', -- chilled | frozen | ambient
  shelf_days   INTEGER NOT NULL DEFAULT 0,
  active       INTEGER NOT NULL DEFAULT 1,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX products_merchant ON products(merchant_id);

CREATE TABLE skus (
  id             INTEGER PRIMARY KEY,
  merchant_id    INTEGER NOT NULL REFERENCES merchants(id),
  product_id     INTEGER NOT NULL REFERENCES products(id),
  code           TEXT NOT NULL,
  name           TEXT NOT NULL,
  gtin           TEXT NOT NULL DEFAULT '',
  price_fen      INTEGER NOT NULL CHECK (price_fen >= 0),
  list_price_fen INTEGER NOT NULL DEFAULT 0,
  active         INTEGER NOT NULL DEFAULT 1,
  UNIQUE (merchant_id, code)
);
CREATE INDEX skus_product ON skus(product_id);

CREATE TABLE lots (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  sku_id      INTEGER NOT NULL REFERENCES skus(id),
  code        TEXT NOT NULL,
  produced_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  origin      TEXT NOT NULL DEFAULT '',
  hold        INTEGER NOT NULL DEFAULT 0,
  hold_reason TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  UNIQUE (merchant_id, sku_id, code)
);

-- stock is per store and lot; available = on_hand - reserved, never negative.
CREATE TABLE stock (
  merchant_id INTEGER NOT NULL,
  store_id    INTEGER NOT NULL REFERENCES stores(id),
  lot_id      INTEGER NOT NULL REFERENCES lots(id),
  sku_id      INTEGER NOT NULL REFERENCES skus(id),
  on_hand     INTEGER NOT NULL CHECK (on_hand >= 0),
  reserved    INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
  PRIMARY KEY (store_id, lot_id)
);
CREATE INDEX stock_sku ON stock(sku_id, store_id);

CREATE TABLE rooms (
  id               INTEGER PRIMARY KEY,
  merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
  slug             TEXT NOT NULL UNIQUE,
  title            TEXT NOT NULL,
  title_en         TEXT NOT NULL DEFAULT '',
  host_staff_id    INTEGER,
  host_name        TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL DEFAULT 'scheduled', -- scheduled | live | ended
  scheduled_at     INTEGER,
  started_at       INTEGER,
  ended_at         INTEGER,
  poster           TEXT NOT NULL DEFAULT '',
  stream_key       TEXT NOT NULL DEFAULT '',
  pinned_product_id INTEGER,
  likes            INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL
);
CREATE INDEX rooms_merchant ON rooms(merchant_id);

-- room_products is the room's lineup: the cards the host can push.
CREATE TABLE room_products (
  room_id    INTEGER NOT NULL REFERENCES rooms(id),
  product_id INTEGER NOT NULL REFERENCES products(id),
  position   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, product_id)
);

-- room_pins records every pin with its time, for the replay's per-product jump.
CREATE TABLE room_pins (
  id         INTEGER PRIMARY KEY,
  room_id    INTEGER NOT NULL REFERENCES rooms(id),
  product_id INTEGER NOT NULL,
  at         INTEGER NOT NULL
);
CREATE INDEX room_pins_room ON room_pins(room_id, at);

CREATE TABLE comments (
  id          INTEGER PRIMARY KEY,
  room_id     INTEGER NOT NULL REFERENCES rooms(id),
  merchant_id INTEGER NOT NULL,
  author_kind TEXT NOT NULL,        -- customer | staff
  author_id   INTEGER NOT NULL,
  author_name TEXT NOT NULL,
  body        TEXT NOT NULL,
  deleted     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
);
CREATE INDEX comments_room ON comments(room_id, id);

CREATE TABLE room_bans (
  room_id     INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (room_id, customer_id)
);

CREATE TABLE orders (
  id                 INTEGER PRIMARY KEY,
  merchant_id        INTEGER NOT NULL REFERENCES merchants(id),
  number             TEXT NOT NULL UNIQUE,
  customer_id        INTEGER NOT NULL REFERENCES customers(id),
  room_id            INTEGER,
  guide_code         TEXT NOT NULL DEFAULT '',
  status             TEXT NOT NULL,
  fulfilment         TEXT NOT NULL,   -- pickup | delivery
  store_id           INTEGER NOT NULL REFERENCES stores(id),
  contact_name       TEXT NOT NULL DEFAULT '',
  contact_phone      TEXT NOT NULL DEFAULT '',
  address            TEXT NOT NULL DEFAULT '',
  total_fen          INTEGER NOT NULL CHECK (total_fen >= 0),
  refunded_fen       INTEGER NOT NULL DEFAULT 0,
  pickup_code        TEXT NOT NULL DEFAULT '',
  idempotency_key    TEXT NOT NULL DEFAULT '',
  request_hash       TEXT NOT NULL DEFAULT '',
  reserve_expires_at INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  paid_at            INTEGER,
  ready_at           INTEGER,
  shipped_at         INTEGER,
  completed_at       INTEGER,
  cancelled_at       INTEGER,
  CHECK (refunded_fen <= total_fen)
);
CREATE INDEX orders_merchant ON orders(merchant_id, id);
CREATE INDEX orders_customer ON orders(customer_id, id);
CREATE INDEX orders_expiry ON orders(status, reserve_expires_at);
CREATE UNIQUE INDEX orders_idem ON orders(customer_id, idempotency_key) WHERE idempotency_key <> '';
CREATE UNIQUE INDEX orders_pickup ON orders(merchant_id, pickup_code) WHERE pickup_code <> '';

CREATE TABLE order_lines (
  id           INTEGER PRIMARY KEY,
  order_id     INTEGER NOT NULL REFERENCES orders(id),
  sku_id       INTEGER NOT NULL,
  product_id   INTEGER NOT NULL,
  product_name TEXT NOT NULL,
  sku_name     TEXT NOT NULL,
  quantity     INTEGER NOT NULL CHECK (quantity > 0),
  unit_fen     INTEGER NOT NULL CHECK (unit_fen >= 0),
  total_fen    INTEGER NOT NULL
);
CREATE INDEX order_lines_order ON order_lines(order_id);

-- allocations say which lot in which store holds a line's units: reserved at
-- order time, consumed once at handover, released on cancel or expiry.
CREATE TABLE allocations (
  id        INTEGER PRIMARY KEY,
  order_id  INTEGER NOT NULL REFERENCES orders(id),
  store_id  INTEGER NOT NULL,
  lot_id    INTEGER NOT NULL,
  quantity  INTEGER NOT NULL CHECK (quantity > 0),
  state     TEXT NOT NULL DEFAULT 'reserved' -- reserved | consumed | released
);
CREATE INDEX allocations_order ON allocations(order_id);

CREATE TABLE payments (
  id           INTEGER PRIMARY KEY,
  merchant_id  INTEGER NOT NULL,
  order_id     INTEGER NOT NULL REFERENCES orders(id),
  provider     TEXT NOT NULL,
  intent       TEXT NOT NULL UNIQUE,
  amount_fen   INTEGER NOT NULL,
  status       TEXT NOT NULL,   -- pending | paid | refunded | failed
  provider_ref TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  paid_at      INTEGER
);
CREATE INDEX payments_order ON payments(order_id);

-- payment_notifications makes provider callbacks idempotent and replay-proof.
CREATE TABLE payment_notifications (
  provider   TEXT NOT NULL,
  nonce      TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (provider, nonce)
);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  object      TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '',
  at          INTEGER NOT NULL
);
CREATE INDEX audit_merchant ON audit_log(merchant_id, id);
