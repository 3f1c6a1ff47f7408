-- (PostgreSQL twin of sqlite/1400_commission_rates.sql) Guides' commission rates: per product (product_id), per category
-- (category: the product's storage class) or the shop's default (neither).
CREATE TABLE commission_rates (
  merchant_id BIGINT NOT NULL REFERENCES merchants(id),
  product_id  BIGINT NOT NULL DEFAULT 0,
  category    TEXT NOT NULL DEFAULT '',
  rate_bp     BIGINT NOT NULL CHECK (rate_bp >= 0 AND rate_bp <= 5000),
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, product_id, category)
);
CREATE INDEX orders_guide_paid ON orders(merchant_id, guide_code, paid_at);
