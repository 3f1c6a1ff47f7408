-- (PostgreSQL twin of sqlite/1101_pickup_window.sql) Each store's pickup window: a paid pickup order nobody collected within
-- it (from ready, else from paid) is cancelled and refunded in full.
ALTER TABLE stores ADD COLUMN pickup_window_hours BIGINT NOT NULL DEFAULT 48;
