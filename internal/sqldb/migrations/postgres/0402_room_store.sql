-- rooms.store_id (PostgreSQL twin of sqlite/0402_room_store.sql).
ALTER TABLE rooms ADD COLUMN store_id BIGINT REFERENCES stores(id);
CREATE INDEX rooms_store ON rooms(merchant_id, store_id);
