-- wechat_mini_logins binds a WeChat mini-program user (openid of the
-- install's mini-program appid) to a customer of one merchant. A customer
-- first seen in the mini-program has no phone yet: customers.phone holds
-- 'wx:' || openid until they verify one.
CREATE TABLE wechat_mini_logins (
  merchant_id BIGINT NOT NULL REFERENCES merchants(id),
  appid       TEXT NOT NULL,
  openid      TEXT NOT NULL,
  unionid     TEXT NOT NULL DEFAULT '',
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, appid, openid)
);
CREATE INDEX wechat_mini_logins_customer ON wechat_mini_logins(merchant_id, customer_id);
