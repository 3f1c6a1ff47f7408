-- cluster_secrets are random keys every node of one deployment shares
-- through the database it shares: "forward" signs the caller a node passes
-- along when it forwards a request to the leader.
CREATE TABLE cluster_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
