-- (PostgreSQL twin of sqlite/2201_same_city.sql) Same-city delivery (同城配送): each store's radius (0: none), fee tiers by
-- distance (JSON [{max_m, fee_fen}], near to far), free over an order
-- amount, and orders per delivery slot (the pickup slots' grid of opening
-- hours; delivery_slots counts them as pickup_slots does). An order keeps
-- the point the buyer chose, its distance from the store and the fee (in
-- total_fen); its booked delivery slot is in the pickup_slot_* columns.
ALTER TABLE stores ADD COLUMN delivery_radius_m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stores ADD COLUMN delivery_tiers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stores ADD COLUMN delivery_free_over_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stores ADD COLUMN delivery_slot_capacity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN delivery_lat DOUBLE PRECISION;
ALTER TABLE orders ADD COLUMN delivery_lng DOUBLE PRECISION;
ALTER TABLE orders ADD COLUMN distance_m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN delivery_fee_fen BIGINT NOT NULL DEFAULT 0;
CREATE TABLE delivery_slots (
  store_id   BIGINT NOT NULL,
  slot_start BIGINT NOT NULL,
  taken      BIGINT NOT NULL DEFAULT 0 CHECK (taken >= 0),
  PRIMARY KEY (store_id, slot_start)
);
