-- (PostgreSQL twin of sqlite/2902_insight_customer.sql) The customer a
-- viewer's logged-in page reported an event as (0: not logged in), linking
-- the analytics visitor to the customer who asks and buys.
ALTER TABLE insight_events ADD COLUMN customer_id BIGINT NOT NULL DEFAULT 0;
