// The room protocol (docs/PROTOCOL.md) over wx.connectSocket, as the web
// page's SL.connect speaks it: one socket for several topics; per topic the
// client keeps epoch and seq, skips events it already applied, and on a
// drop reconnects with sub=<topic>@<epoch>.<seq> so the server replays
// what was missed (or sends a snapshot). At once after slow_consumer or
// resync, otherwise with backoff 0.5 s … 30 s plus jitter.
const api = require("./api");

function connect(topics, on) {
  const pos = {}; // topic -> {epoch, seq}
  let task = null, retry = 0, closed = false, pending = null, lastBye = null, pinger = null;

  const url = () => api.wsBase() + "/api/v1/ws?" + topics.map((tp) =>
    "sub=" + encodeURIComponent(pos[tp] && pos[tp].epoch ? tp + "@" + pos[tp].epoch + "." + pos[tp].seq : tp)).join("&");

  function frame(raw) {
    let f;
    try { f = JSON.parse(typeof raw === "string" ? raw : String(raw)); } catch (e) { return; }
    switch (f.t) {
      case "snapshot": pos[f.topic] = { epoch: f.epoch, seq: f.seq }; on.snapshot && on.snapshot(f.topic, f.data); break;
      case "ev":
        if (pos[f.topic] && f.seq <= pos[f.topic].seq) return; // already applied
        pos[f.topic] = Object.assign(pos[f.topic] || {}, { seq: f.seq });
        on.event && on.event(f.topic, f.type, f.data);
        break;
      case "batch": on.batch && on.batch(f.topic, f); break;
      case "own": on.own && on.own(f.topic, f.comments || []); break;
      case "me": on.me && on.me(f.topic, f.type, f.data); break;
      case "bye": lastBye = f; on.status && on.status("bye", f.code); break;
      default: // unknown frames are ignored: the protocol grows by adding them
    }
  }

  function again() {
    if (closed || pending) return;
    const now = lastBye && (lastBye.code === "slow_consumer" || lastBye.code === "resync");
    const delay = now ? 0 : Math.min(30000, 500 * Math.pow(2, Math.min(retry, 6))) + Math.floor(Math.random() * 400);
    retry++;
    pending = setTimeout(() => { pending = null; open(); }, delay);
  }

  function open() {
    if (closed) return;
    lastBye = null;
    const header = {};
    if (api.token()) header.Authorization = "Bearer " + api.token(); // order topics need the buyer
    const me = wx.connectSocket({ url: url(), header, fail: () => again() });
    task = me;
    me.onOpen(() => { retry = 0; on.status && on.status("open"); });
    me.onMessage((m) => frame(m.data));
    me.onError(() => { if (task === me) again(); });
    me.onClose(() => { on.status && on.status("closed"); if (task === me) again(); });
  }

  open();
  // The server keeps the connection alive with pings; this one keeps
  // carrier NATs from forgetting an idle socket.
  pinger = setInterval(() => { if (task) task.send({ data: '{"t":"ping"}', fail() {} }); }, 25000);
  return {
    positions: pos,
    close() {
      closed = true;
      clearInterval(pinger);
      clearTimeout(pending);
      if (task) { const tk = task; task = null; tk.close({}); }
    },
  };
}

module.exports = { connect };
