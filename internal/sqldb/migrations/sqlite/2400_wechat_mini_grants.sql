-- wechat_mini_grants counts what a viewer allowed in the mini-program's
-- wx.requestSubscribeMessage: each "accept" of a one-time subscribe
-- message template lets the mini-program send that template to them once
-- (WeChat's rule), so accepts add up and each message sent takes one.
CREATE TABLE wechat_mini_grants (
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  appid       TEXT NOT NULL,
  template_id TEXT NOT NULL,
  credits     INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, customer_id, appid, template_id)
);
