-- A shop's own SMS sign name and template for login codes (empty: the
-- install's SHELFLIVE_SMS_SIGN_NAME / SHELFLIVE_SMS_TEMPLATE).
CREATE TABLE merchant_sms (
  merchant_id INTEGER PRIMARY KEY REFERENCES merchants(id),
  sign_name   TEXT NOT NULL DEFAULT '',
  template    TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL
);
