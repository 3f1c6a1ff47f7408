-- Coupons issued to a segment at once (members, a tier, a fan group, past
-- buyers of a category, a store's customers): one row per request, unique
-- per request key, so issuing twice with the same key gives nothing twice.
-- The claims carry seq = -(2^40) - id and source 'segment'.
CREATE TABLE coupon_segment_issues (
  id           INTEGER PRIMARY KEY,
  merchant_id  INTEGER NOT NULL,
  coupon_id    INTEGER NOT NULL REFERENCES coupons(id),
  segment      TEXT NOT NULL,
  request_key  TEXT NOT NULL,
  issued       INTEGER NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (merchant_id, request_key)
);
