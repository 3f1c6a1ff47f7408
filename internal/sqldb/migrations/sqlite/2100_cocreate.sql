-- Co-creation (共创): a draft product with option groups fans vote on, one
-- vote per person per option group (the primary key of cocreate_votes is
-- the rule; a second vote replaces the first while the draft is open).
-- Counts are read from the votes, never kept beside them.
CREATE TABLE cocreate_drafts (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  name        TEXT NOT NULL,
  story       TEXT NOT NULL DEFAULT '',
  origin      TEXT NOT NULL DEFAULT '',
  images      TEXT NOT NULL DEFAULT '[]', -- JSON array of /uploads/ paths
  group_id    INTEGER REFERENCES fan_groups(id),
  room_id     INTEGER REFERENCES rooms(id),
  trial_id    INTEGER,                    -- a trial (内测) named for reference; not a foreign key
  status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  presale_id  INTEGER UNIQUE REFERENCES presales(id),
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  closes_at   INTEGER,
  closed_at   INTEGER
);
CREATE INDEX cocreate_drafts_merchant ON cocreate_drafts(merchant_id, id);
CREATE INDEX cocreate_drafts_group ON cocreate_drafts(group_id) WHERE group_id IS NOT NULL;
CREATE INDEX cocreate_drafts_room ON cocreate_drafts(room_id) WHERE room_id IS NOT NULL;
CREATE INDEX cocreate_drafts_due ON cocreate_drafts(status, closes_at);

CREATE TABLE cocreate_groups (
  id       INTEGER PRIMARY KEY,
  draft_id INTEGER NOT NULL REFERENCES cocreate_drafts(id),
  position INTEGER NOT NULL,
  name     TEXT NOT NULL
);
CREATE INDEX cocreate_groups_draft ON cocreate_groups(draft_id, position);

CREATE TABLE cocreate_options (
  id       INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL REFERENCES cocreate_groups(id),
  draft_id INTEGER NOT NULL REFERENCES cocreate_drafts(id),
  position INTEGER NOT NULL,
  text     TEXT NOT NULL
);
CREATE INDEX cocreate_options_group ON cocreate_options(group_id, position);

CREATE TABLE cocreate_votes (
  group_id    INTEGER NOT NULL REFERENCES cocreate_groups(id),
  customer_id INTEGER NOT NULL,
  draft_id    INTEGER NOT NULL REFERENCES cocreate_drafts(id),
  option_id   INTEGER NOT NULL REFERENCES cocreate_options(id),
  at          INTEGER NOT NULL,
  PRIMARY KEY (group_id, customer_id)
);
CREATE INDEX cocreate_votes_draft ON cocreate_votes(draft_id, option_id);
