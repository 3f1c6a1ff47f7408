-- Holds where it broke: a cold-chain excursion at a store's fridge holds
-- that lot's units in that store only (stock.hold); lots.hold stays the
-- hold of the whole lot, in every store (quality widens to it). A unit is
-- sellable only when neither holds it (inventory.Sellable).
ALTER TABLE stock ADD COLUMN hold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stock ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
