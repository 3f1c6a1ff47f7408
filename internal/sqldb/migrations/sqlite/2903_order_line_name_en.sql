-- The product's English name at order time, beside the Chinese one
-- (product_name), so a buyer on the English pages reads their items in
-- English. Lines written before this column take the product's English
-- name of today: the closest there is.
ALTER TABLE order_lines ADD COLUMN product_name_en TEXT NOT NULL DEFAULT '';
UPDATE order_lines SET product_name_en = (SELECT p.name_en FROM products p WHERE p.id = order_lines.product_id)
  WHERE product_id IN (SELECT id FROM products WHERE name_en <> '');
