-- leases elect one node for cluster-wide work (reservation expiry, flash
-- sale allocation). A holder renews before expires_at; anyone may take an
-- expired lease. addr is where the holder serves forwarded requests.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  addr       TEXT NOT NULL DEFAULT '',
  expires_at INTEGER NOT NULL
);
