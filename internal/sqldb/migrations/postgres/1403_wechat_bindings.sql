-- (PostgreSQL twin of sqlite/1403_wechat_bindings.sql)
-- A WeChat openid (of the shop's official account) bound to the customer's
-- phone account, so the WeChat sign-in (snsapi_base) logs them in silently.
CREATE TABLE wechat_bindings (
  merchant_id BIGINT NOT NULL,
  openid      TEXT NOT NULL,
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, openid)
);
CREATE INDEX wechat_bindings_customer ON wechat_bindings(customer_id);
