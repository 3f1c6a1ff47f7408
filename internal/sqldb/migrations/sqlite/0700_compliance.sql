-- Compliance review (issue 21): each merchant's own terms on top of the
-- base rules (internal/compliance/rules/rules.json), the evidence it keeps
-- on file (trademarks, certificates, rankings, price records), and the
-- host's script of a room, which is reviewed before the room goes live.
CREATE TABLE compliance_terms (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  term        TEXT NOT NULL,
  severity    TEXT NOT NULL CHECK (severity IN ('block', 'warn', 'needs_evidence', 'allow')),
  explanation TEXT NOT NULL DEFAULT '',
  suggestion  TEXT NOT NULL DEFAULT '',
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  UNIQUE (merchant_id, term)
);
CREATE TABLE compliance_evidence (
  id          INTEGER PRIMARY KEY,
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  kind        TEXT NOT NULL,
  term        TEXT NOT NULL DEFAULT '',
  product_id  INTEGER NOT NULL DEFAULT 0,
  reference   TEXT NOT NULL,
  note        TEXT NOT NULL DEFAULT '',
  valid_until INTEGER,
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);
CREATE INDEX compliance_evidence_merchant ON compliance_evidence(merchant_id, id);
CREATE TABLE room_scripts (
  room_id     INTEGER PRIMARY KEY REFERENCES rooms(id),
  merchant_id INTEGER NOT NULL REFERENCES merchants(id),
  body        TEXT NOT NULL,
  updated_by  TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL
);
