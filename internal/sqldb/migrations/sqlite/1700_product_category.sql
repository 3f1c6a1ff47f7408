-- A product's category (水果, 乳品, 烘焙 …): what coupons and commissions are
-- scoped by, what segments of past buyers and household pushes match on.
ALTER TABLE products ADD COLUMN category TEXT NOT NULL DEFAULT '';
CREATE INDEX products_category ON products(merchant_id, category);
