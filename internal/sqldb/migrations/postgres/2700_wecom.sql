-- WeCom (企业微信): a merchant's corp id and sealed app secret, each
-- guide's WeCom userid, and the 群发 tasks guides created (one per guide,
-- room and China day: sending twice answers the first task).
CREATE TABLE wecom_settings (
  merchant_id BIGINT PRIMARY KEY REFERENCES merchants(id),
  corp_id     TEXT NOT NULL,
  secret      TEXT NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE wecom_users (
  merchant_id BIGINT NOT NULL REFERENCES merchants(id),
  staff_id    BIGINT NOT NULL REFERENCES staff(id),
  userid      TEXT NOT NULL,
  PRIMARY KEY (merchant_id, staff_id)
);

CREATE TABLE wecom_sends (
  merchant_id BIGINT NOT NULL REFERENCES merchants(id),
  staff_id    BIGINT NOT NULL REFERENCES staff(id),
  slug        TEXT NOT NULL,
  day         TEXT NOT NULL,
  msgid       TEXT NOT NULL,
  fail_list   TEXT NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, staff_id, slug, day)
);
