-- A SKU's English name ("500g box" beside "500g 盒装"), optional: the
-- English pages show it and fall back to the Chinese name. Order lines keep
-- it beside sku_name, as product_name_en (2903); older lines take the SKU's
-- English name of today, which is none.
ALTER TABLE skus ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
ALTER TABLE order_lines ADD COLUMN sku_name_en TEXT NOT NULL DEFAULT '';
