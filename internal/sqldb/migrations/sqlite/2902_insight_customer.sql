-- The customer a viewer's logged-in page reported an event as (0: not
-- logged in). It links the analytics visitor (cookie sl_vid) to the
-- customer who asks in comments and pays for orders, so an A/B comparison
-- within one live can pair each viewer's two outcomes (McNemar's test).
ALTER TABLE insight_events ADD COLUMN customer_id INTEGER NOT NULL DEFAULT 0;
