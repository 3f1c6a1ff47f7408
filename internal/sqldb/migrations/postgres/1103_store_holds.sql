-- (PostgreSQL twin of sqlite/1103_store_holds.sql) Holds where it broke: a cold-chain excursion at a store's fridge holds
-- that lot's units in that store only (stock.hold); lots.hold stays the
-- hold of the whole lot, in every store (quality widens to it). A unit is
-- sellable only when neither holds it (inventory.Sellable).
ALTER TABLE stock ADD COLUMN hold BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE stock ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
