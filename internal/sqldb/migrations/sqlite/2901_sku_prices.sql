-- Each SKU's price over time (issue 21): a struck-through list price (划线价)
-- or a 原价 must be a real earlier price — 《明码标价和禁止价格欺诈规定》§13:
-- the lowest price of the 7 days before the cut. One row per price a SKU
-- took, from its time. SKUs from before this table get one row: their
-- current price from their product's creation (earlier changes are only in
-- the audit log's text and are not read back).
CREATE TABLE sku_prices (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  sku_id      INTEGER NOT NULL REFERENCES skus(id),
  price_fen   INTEGER NOT NULL,
  at          INTEGER NOT NULL
);
CREATE INDEX sku_prices_sku ON sku_prices(merchant_id, sku_id, at);
INSERT INTO sku_prices (merchant_id, sku_id, price_fen, at)
  SELECT s.merchant_id, s.id, s.price_fen, p.created_at FROM skus s JOIN products p ON p.id = s.product_id;
