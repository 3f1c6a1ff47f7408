-- (PostgreSQL twin of sqlite/2904_sku_name_en.sql) A SKU's optional English
-- name, and the order line's copy of it at order time.
ALTER TABLE skus ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
ALTER TABLE order_lines ADD COLUMN sku_name_en TEXT NOT NULL DEFAULT '';
