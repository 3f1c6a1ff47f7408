-- The nickname and avatar a viewer agreed to share (snsapi_userinfo), shown
-- on 我的. The avatar is kept here (a small image, served from the site:
-- the pages' CSP loads no outside images). Deleted by the viewer or with
-- the customer.
CREATE TABLE wechat_profiles (
  merchant_id  INTEGER NOT NULL,
  customer_id  INTEGER NOT NULL REFERENCES customers(id),
  openid       TEXT NOT NULL,
  nickname     TEXT NOT NULL,
  avatar       BLOB,
  avatar_type  TEXT NOT NULL DEFAULT '',
  consented_at INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, customer_id)
);
