-- The official accounts' JS-SDK jsapi_ticket, one row per appid, shared by
-- every node: the first node that finds it expired fetches a new one while
-- holding the row (the others wait and read it).
CREATE TABLE wechat_tickets (
  app_id     TEXT PRIMARY KEY,
  ticket     TEXT NOT NULL DEFAULT '',
  expires_at INTEGER NOT NULL DEFAULT 0,
  fetched_at INTEGER NOT NULL DEFAULT 0
);
