-- (PostgreSQL twin of sqlite/2903_order_line_name_en.sql) The product's
-- English name at order time; older lines take today's English name.
ALTER TABLE order_lines ADD COLUMN product_name_en TEXT NOT NULL DEFAULT '';
UPDATE order_lines l SET product_name_en = p.name_en FROM products p WHERE p.id = l.product_id AND p.name_en <> '';
