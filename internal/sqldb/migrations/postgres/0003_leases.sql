-- leases (PostgreSQL twin of sqlite/0003_leases.sql).
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  addr       TEXT NOT NULL DEFAULT '',
  expires_at BIGINT NOT NULL
);
