-- cluster_secrets (PostgreSQL twin of sqlite/0004_cluster_secrets.sql).
CREATE TABLE cluster_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
