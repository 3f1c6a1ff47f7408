-- (PostgreSQL twin of sqlite/1102_pickup_slots.sql) Pickup slots: each store's opening hours (minutes after midnight, China
-- time) and slots (length, orders per slot; capacity 0 = no slots); an
-- order's booked slot and the one the buyer asked for (a full slot moves
-- the buyer to the next); pickup_slots counts the orders holding each slot,
-- raised with a guarded UPDATE (taken < capacity) in the order's
-- transaction and lowered when the order is cancelled or expires.
ALTER TABLE stores ADD COLUMN open_minute BIGINT NOT NULL DEFAULT 480;
ALTER TABLE stores ADD COLUMN close_minute BIGINT NOT NULL DEFAULT 1320;
ALTER TABLE stores ADD COLUMN slot_minutes BIGINT NOT NULL DEFAULT 60;
ALTER TABLE stores ADD COLUMN slot_capacity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN pickup_slot_start BIGINT;
ALTER TABLE orders ADD COLUMN pickup_slot_end BIGINT;
ALTER TABLE orders ADD COLUMN pickup_slot_requested BIGINT;
CREATE INDEX orders_slot_end ON orders(pickup_slot_end);
CREATE TABLE pickup_slots (
  store_id   BIGINT NOT NULL,
  slot_start BIGINT NOT NULL,
  taken      BIGINT NOT NULL DEFAULT 0 CHECK (taken >= 0),
  PRIMARY KEY (store_id, slot_start)
);
