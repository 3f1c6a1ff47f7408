-- Topic groups (粉丝群): members, posts with photos and recipes, comments.
CREATE TABLE fan_groups (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  slug        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  name_en     TEXT NOT NULL DEFAULT '',
  topic       TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);
CREATE INDEX fan_groups_merchant ON fan_groups(merchant_id, id);

CREATE TABLE fan_members (
  group_id    INTEGER NOT NULL REFERENCES fan_groups(id),
  customer_id INTEGER NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('member', 'moderator')),
  joined_at   INTEGER NOT NULL,
  PRIMARY KEY (group_id, customer_id)
);

CREATE TABLE fan_posts (
  id          INTEGER PRIMARY KEY,
  group_id    INTEGER NOT NULL REFERENCES fan_groups(id),
  author_kind TEXT NOT NULL CHECK (author_kind IN ('customer', 'staff')),
  author_id   INTEGER NOT NULL,
  author_name TEXT NOT NULL,
  text        TEXT NOT NULL,
  images      TEXT NOT NULL DEFAULT '[]', -- JSON list of /uploads/ paths
  recipe      TEXT,                       -- JSON recipe, or NULL
  hidden      BOOLEAN NOT NULL DEFAULT FALSE,
  created_at  INTEGER NOT NULL
);
CREATE INDEX fan_posts_group ON fan_posts(group_id, id);

CREATE TABLE fan_comments (
  id          INTEGER PRIMARY KEY,
  post_id     INTEGER NOT NULL REFERENCES fan_posts(id),
  author_kind TEXT NOT NULL CHECK (author_kind IN ('customer', 'staff')),
  author_id   INTEGER NOT NULL,
  author_name TEXT NOT NULL,
  text        TEXT NOT NULL,
  hidden      BOOLEAN NOT NULL DEFAULT FALSE,
  created_at  INTEGER NOT NULL
);
CREATE INDEX fan_comments_post ON fan_comments(post_id, id);
