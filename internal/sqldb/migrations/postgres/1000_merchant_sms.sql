-- (PostgreSQL twin of sqlite/1000_merchant_sms.sql) A shop's own SMS sign
-- name and template for login codes (empty: the install's).
CREATE TABLE merchant_sms (
  merchant_id BIGINT PRIMARY KEY REFERENCES merchants(id),
  sign_name   TEXT NOT NULL DEFAULT '',
  template    TEXT NOT NULL DEFAULT '',
  updated_at  BIGINT NOT NULL
);
