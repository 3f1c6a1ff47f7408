-- merchants.disabled_at (PostgreSQL twin of sqlite/0400_merchant_accounts.sql).
ALTER TABLE merchants ADD COLUMN disabled_at BIGINT;
