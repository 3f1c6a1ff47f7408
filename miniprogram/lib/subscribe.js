// Subscribe messages (订阅消息): the template ids come from the server
// (GET /api/v1/miniprogram/config); wx.requestSubscribeMessage asks the
// viewer, and the answers go back to ShelfLive, which counts each accept
// as one message it may send (POST /api/v1/me/miniprogram/subscriptions).
const api = require("./api");

let cfg = null;

// prefetch loads the template ids when a page opens: WeChat lets
// requestSubscribeMessage run only straight from a tap, not after a
// network round trip.
function prefetch() {
  if (!cfg) cfg = api.get("/api/v1/miniprogram/config").catch((e) => { cfg = null; throw e; });
  return cfg;
}

// ask shows WeChat's dialog for the templates of these kinds (live_start,
// order_ready) and keeps the answers; it resolves with the viewer's grants,
// or null when the install has none of these templates.
async function ask(kinds) {
  const c = await prefetch();
  const ids = kinds.map((k) => (c.templates || {})[k]).filter(Boolean);
  if (!ids.length) return null;
  const res = await new Promise((resolve, reject) => wx.requestSubscribeMessage({ tmplIds: ids, success: resolve, fail: reject }));
  const results = {};
  for (const id of ids) if (typeof res[id] === "string") results[id] = res[id];
  const out = await api.authed("POST", "/api/v1/me/miniprogram/subscriptions", { results });
  return out.grants;
}

module.exports = { prefetch, ask, reset() { cfg = null; } };
