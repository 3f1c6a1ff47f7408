// The pages against a real ShelfLive node (started by the Go test
// internal/miniprogramtest with the local WeChat fakes): the room shows
// comments and the card the host pins, the viewer comments and likes,
// checkout pays with the JSAPI parameters ShelfLive signed, the order page
// gets the pickup code once WeChat Pay calls back, and the subscribe
// answer is kept on the server.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const h = require("./harness");

const SERVER = process.env.SHELFLIVE_MP_SERVER;
const CONTROL = process.env.SHELFLIVE_MP_CONTROL;
const OWNER = process.env.SHELFLIVE_MP_OWNER_TOKEN;
const ROOM = process.env.SHELFLIVE_MP_ROOM || "demo";
const skip = !SERVER && process.env.CI !== "true" ? "no SHELFLIVE_MP_SERVER: run through go test ./internal/miniprogramtest" : false;

async function call(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(SERVER + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : null };
}
const viewerToken = () => h.storage.get("shelflive_token");

let codes = 0;
test.before(() => {
  if (skip) return;
  assert.ok(SERVER && CONTROL && OWNER, "SHELFLIVE_MP_SERVER, SHELFLIVE_MP_CONTROL and SHELFLIVE_MP_OWNER_TOKEN are set by the Go test");
  h.config.server = SERVER;
  h.config.merchant = "demo";
  h.answers.login = () => "mpcode-oMPbuyer-" + (++codes); // one WeChat user, a fresh code per wx.login
});

let product; // a product of the room with stock

test("the room shows comments, the pinned card, and takes a comment and likes", { skip }, async (t) => {
  const st = (await call("GET", "/api/v1/rooms/" + ROOM)).data;
  product = st.products.find((p) => p.skus.some((k) => k.active && k.available > 1));
  assert.ok(product, "the demo room has a product in stock");
  assert.strictEqual((await call("POST", "/api/v1/rooms/" + ROOM + "/comments", { text: "欢迎来到草莓直播间" }, OWNER)).status, 201);

  const room = await h.page("room", { slug: ROOM });
  t.after(() => room.instance.onUnload());
  await h.until("the host's comment from before", () => room.data.comments.some((c) => c.text === "欢迎来到草莓直播间" && c.host));
  await h.until("the socket", () => h.calls.sockets.some((s) => s.ws.readyState === 1 && s.url.includes("room%3A" + st.room.id)));

  // the host pins the card: card.pinned over the socket
  assert.strictEqual((await call("POST", "/api/v1/rooms/" + ROOM + "/pin", { product_id: product.id }, OWNER)).status, 200);
  await h.until("the pinned card", () => room.data.pinned && room.data.pinned.id === product.id);
  assert.strictEqual(h.text(room, "#pinned-name"), product.name);
  assert.match(h.text(room, "#pinned-price"), /^¥\d+\.\d\d$/);
  assert.strictEqual(h.text(room, "#buy"), "立即购买");

  // a comment posted now comes in a batch
  assert.strictEqual((await call("POST", "/api/v1/rooms/" + ROOM + "/comments", { text: "今天草莓买一送一" }, OWNER)).status, 201);
  await h.until("the batch's comment", () => room.data.comments.some((c) => c.text === "今天草莓买一送一"));
  assert.ok(h.text(room, "#comments").includes("今天草莓买一送一"), "the comment is on the page");

  // the viewer comments (logging in through wx.login on the way)
  room.instance.onDraft({ detail: { value: "要两盒" } });
  await room.instance.onSend();
  assert.strictEqual(room.data.error, "");
  assert.ok(room.data.comments.some((c) => c.text === "要两盒" && c.mine), "the viewer's own comment");
  assert.ok(viewerToken(), "logged in with wx.login");

  // likes are sent in a batch
  const before = (await call("GET", "/api/v1/rooms/" + ROOM)).data.likes;
  room.querySelector("#like").dispatchEvent("tap");
  room.querySelector("#like").dispatchEvent("tap");
  await h.until("the likes on the server", async () => (await call("GET", "/api/v1/rooms/" + ROOM)).data.likes >= before + 2);

  h.preview(room, "room");

  // 买 opens the checkout for the pinned product
  room.querySelector("#buy").dispatchEvent("tap");
  await h.until("the checkout", () => h.calls.navigations.includes("/pages/checkout/checkout?slug=" + ROOM + "&product=" + product.id));
});

test("checkout pays with ShelfLive's JSAPI parameters; the order page shows the pickup code", { skip }, async (t) => {
  assert.ok(product, "the room test found a product");
  const checkout = await h.page("checkout", { slug: ROOM, product: String(product.id) });
  await h.until("a store with stock", () => checkout.data.canSubmit);
  assert.strictEqual(h.text(checkout, "#product-name"), product.name);

  h.preview(checkout, "checkout");
  const paid = h.calls.payments.length;
  checkout.querySelector("#submit").dispatchEvent("tap");
  const to = await h.until("the order page", () => h.calls.navigations.find((u) => u.startsWith("/pages/order/order?id=")));
  const orderID = Number(to.split("=")[1]);
  assert.strictEqual(h.calls.payments.length, paid + 1, "wx.requestPayment was called once");
  const params = h.calls.payments[paid];
  assert.match(params.package, /^prepay_id=/);
  assert.strictEqual(params.signType, "RSA");
  assert.ok(params.timeStamp && params.nonceStr && params.paySign);

  const order = await h.page("order", { id: String(orderID) });
  t.after(() => order.instance.onUnload());
  await h.until("the unpaid order", () => order.data.status === "pending_payment");
  assert.strictEqual(h.text(order, "#status"), "待支付");
  assert.strictEqual(order.data.pickupCode, "", "no pickup code before paying");

  // WeChat: the parameters must be the server's (checked by the Go side
  // against the merchant's key and the prepay id); then it pays and calls back
  const res = await fetch(CONTROL + "/pay", { method: "POST", body: JSON.stringify(Object.assign({ order_id: orderID }, {
    timeStamp: params.timeStamp, nonceStr: params.nonceStr, package: params.package, signType: params.signType, paySign: params.paySign })) });
  assert.strictEqual(res.status, 204, await res.text());

  // order.status over the order topic → the page reloads the buyer's order
  await h.until("the pickup code", () => /^\d{4} \d{4}$/.test(order.data.pickupCode));
  const o = (await call("GET", "/api/v1/orders/" + orderID, undefined, viewerToken())).data;
  assert.strictEqual(o.status, "paid");
  assert.strictEqual(order.data.pickupCode, o.pickup_code.slice(0, 4) + " " + o.pickup_code.slice(4));
  assert.strictEqual(h.text(order, "#pickup-code"), order.data.pickupCode);
  assert.strictEqual(h.text(order, "#status"), "已支付");
  assert.ok(!order.querySelector("#pay"), "no pay button once paid");
  h.preview(order, "order");
  // The item by its Chinese name, and by its English one in English WeChat.
  assert.ok(product.name_en && order.data.lines[0].name.startsWith(product.name + " · "), order.data.lines[0].name);
  require("../lib/i18n").setLang("en");
  t.after(() => require("../lib/i18n").setLang("zh"));
  await order.instance.reload();
  assert.ok(order.data.lines[0].name.startsWith(product.name_en + " · "), order.data.lines[0].name);
  require("../lib/i18n").setLang("zh");
  await order.instance.reload();

  // 取货提醒: WeChat's dialog with the server's template, the answer kept
  await order.instance.onRemind();
  assert.deepStrictEqual(h.calls.subscribes[h.calls.subscribes.length - 1], ["TMPL-order-ready"]);
  const g = (await call("GET", "/api/v1/me/miniprogram/subscriptions", undefined, viewerToken())).data;
  assert.deepStrictEqual(g.grants.find((x) => x.kind === "order_ready"), { kind: "order_ready", template_id: "TMPL-order-ready", credits: 1 });
});
