// The room protocol as the mini-program speaks it, against a local
// WebSocket server that plays recorded ShelfLive frames (docs/PROTOCOL.md):
// snapshot, events, a slow_consumer bye, the resume by epoch.seq, and a
// replayed event that must not be applied twice.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const http = require("http");
const WebSocket = require("ws");
const h = require("./harness");

test("the room resumes from its last seq after slow_consumer and skips what it had", async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url.startsWith("/api/v1/rooms/r1/comments")) { res.setHeader("Content-Type", "application/json"); res.end('{"comments":[{"id":3,"author_name":"店长","author_kind":"staff","body":"欢迎来到直播间"}]}'); return; }
    if (req.url.startsWith("/api/v1/rooms/r1")) {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ room: { id: 12, title: "草莓季", status: "scheduled" }, products: [], viewers: 1, likes: 0 }));
      return;
    }
    res.statusCode = 404; res.end("{}");
  });
  const wss = new WebSocket.Server({ server });
  const urls = [];
  const strawberry = { id: 5, name: "丹东99草莓", skus: [{ id: 9, name: "500g", price_fen: 3980, available: 39, held: 0, active: true }] };
  wss.on("connection", (ws, req) => {
    urls.push(req.url);
    const send = (f) => ws.send(JSON.stringify(f));
    send({ t: "hello", epoch: "k3x9", server_time: Date.now() });
    if (urls.length === 1) {
      send({ t: "snapshot", topic: "room:12", epoch: "k3x9-4", seq: 17, data: {
        room: { id: 12, title: "草莓季", status: "live" }, products: [strawberry], viewers: 9874, likes: 50211,
        playback: { flv: "/media/live/r1.flv", on_air: true } } });
      send({ t: "ev", topic: "room:12", seq: 18, type: "card.pinned", data: { product: strawberry, pin_id: "p1" } });
      send({ t: "batch", topic: "room:12", comments: [{ id: "c1", user: "u9", name: "李**", text: "好吃", at: "2026-11-26T08:21:59.1Z" }], dropped: 12, likes: 50300, likes_delta: 87, viewers: 9875 });
      send({ t: "bye", code: "slow_consumer", reason: "网络太慢 / too slow" });
      ws.close(1008, "slow_consumer");
    } else {
      // the replay starts at the event the client already applied
      send({ t: "ev", topic: "room:12", seq: 18, type: "card.unpinned", data: {} });
      send({ t: "ev", topic: "room:12", seq: 19, type: "product.updated", data: { product: Object.assign({}, strawberry, { skus: [Object.assign({}, strawberry.skus[0], { available: 0 })] }) } });
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  h.config.server = "http://127.0.0.1:" + server.address().port;
  t.after(() => { wss.close(); server.close(); });

  const room = await h.page("room", { slug: "r1" });
  t.after(() => room.instance.onUnload());
  await h.until("the batch's comment", () => room.data.comments.some((c) => c.text === "好吃"));
  assert.ok(room.data.comments.some((c) => c.text === "欢迎来到直播间" && c.host), "the recent comments from the API, the host's marked");
  assert.strictEqual(room.data.dropped, 12);
  assert.strictEqual(room.data.likesText, "5.0万");
  // live-player plays the room's FLV URL, made absolute on the server
  assert.strictEqual(room.data.flv, h.config.server + "/media/live/r1.flv");
  assert.ok(room.querySelector("#player"), "live-player is on the page");
  assert.strictEqual(h.text(room, "#status"), "● 直播中");
  h.preview(room, "room-live");

  await h.until("the reconnect", () => urls.length === 2);
  assert.strictEqual(urls[0], "/api/v1/ws?sub=room%3A12");
  assert.strictEqual(urls[1], "/api/v1/ws?sub=room%3A12%40k3x9-4.18", "resumes from the last seq it applied, with its epoch");
  // seq 18 again (card.unpinned) was skipped: the card stays, and seq 19 sold it out
  await h.until("seq 19", () => room.data.pinned && room.data.pinned.soldOut);
  assert.strictEqual(room.data.pinned.name, "丹东99草莓");
  assert.strictEqual(h.text(room, "#pinned-stock"), "已售罄");
  assert.strictEqual(h.text(room, "#buy"), "已抢光");
});
