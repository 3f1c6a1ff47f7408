-- Stores as studios: a room may belong to one store; that store's hosts run
-- only its rooms, the brand sees every store side by side.
ALTER TABLE rooms ADD COLUMN store_id INTEGER REFERENCES stores(id);
CREATE INDEX rooms_store ON rooms(merchant_id, store_id);
