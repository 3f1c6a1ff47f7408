-- Moderation (issue 21): each merchant's word list, restrictions (a mute
-- in one room, room_id > 0, or a ban across the merchant's rooms, room_id
-- 0; until_at NULL lasts until lifted) and viewers' reports of comments.
CREATE TABLE moderation_words (
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  term        TEXT NOT NULL,
  action      TEXT NOT NULL,
  PRIMARY KEY (merchant_id, term)
);

CREATE TABLE moderation_restrictions (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  room_id     INTEGER NOT NULL DEFAULT 0,
  customer_name TEXT NOT NULL DEFAULT '',
  until_at    INTEGER,
  reason      TEXT NOT NULL DEFAULT '',
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  lifted_at   INTEGER,
  lifted_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX moderation_restrictions_customer ON moderation_restrictions(merchant_id, customer_id);
CREATE INDEX moderation_restrictions_merchant ON moderation_restrictions(merchant_id, id);

-- Room bans made before moderation existed stay in force, until lifted.
INSERT INTO moderation_restrictions (merchant_id, customer_id, room_id, reason, created_at)
  SELECT r.merchant_id, b.customer_id, b.room_id, '', b.created_at FROM room_bans b JOIN rooms r ON r.id = b.room_id;

CREATE TABLE comment_reports (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  room_id     INTEGER NOT NULL REFERENCES rooms(id),
  comment_id  INTEGER NOT NULL REFERENCES comments(id),
  reporter_id INTEGER NOT NULL REFERENCES customers(id),
  reason      TEXT NOT NULL,
  note        TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL DEFAULT 'open',
  created_at  INTEGER NOT NULL,
  decided_by  TEXT NOT NULL DEFAULT '',
  decided_at  INTEGER,
  UNIQUE (comment_id, reporter_id)
);
CREATE INDEX comment_reports_merchant ON comment_reports(merchant_id, status, id);
