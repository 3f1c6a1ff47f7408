-- Which food-claim rules a product's texts are reviewed under (issue 21):
-- ordinary_food (every product so far), health_food (保健食品, its approved
-- function may be claimed with its approval on file and the 本品不能代替药物
-- notice) or none (not a food).
ALTER TABLE products ADD COLUMN product_type TEXT NOT NULL DEFAULT 'ordinary_food';
