-- One-time staff links: invitations (new account, role and store set by the
-- owner, password by the invitee) and password resets. Only the token's
-- SHA-256 is stored; a link works once, until it expires.
CREATE TABLE staff_invites (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  token_hash  TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL,            -- invite | reset
  staff_id    INTEGER,                  -- reset: whose password; invite: the account it made
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  store_id    INTEGER,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
);
CREATE INDEX staff_invites_merchant ON staff_invites(merchant_id);
-- Ending every session of one person (password change, disable) looks them up by subject.
CREATE INDEX sessions_subject ON sessions(merchant_id, subject_id);
