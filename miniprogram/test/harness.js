// The test harness: a DOM (jsdom) for miniprogram-simulate and j-component,
// and a fake `wx` whose request and connectSocket are real HTTP and
// WebSocket (undici fetch, the ws package) to whatever server the test
// names, with wx.login, wx.requestPayment and wx.requestSubscribeMessage
// answered by the test.
"use strict";
const path = require("path");
const { JSDOM } = require("jsdom");
const WebSocket = require("ws");

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true, url: "https://servicewechat.com/" });
for (const key of Object.getOwnPropertyNames(dom.window)) {
  if (!(key in global)) {
    try { global[key] = dom.window[key]; } catch (e) { /* read-only */ }
  }
}
// node has Event and EventTarget of its own; the DOM's must win, or
// elements refuse the events j-component dispatches.
for (const key of ["Event", "CustomEvent", "EventTarget", "MouseEvent", "KeyboardEvent", "UIEvent", "FocusEvent"]) global[key] = dom.window[key];
global.window = dom.window;
global.document = dom.window.document;

const simulate = require("miniprogram-simulate");

const ROOT = path.resolve(__dirname, "..");
const config = require(path.join(ROOT, "config"));
const i18n = require(path.join(ROOT, "lib/i18n"));

// calls records what the pages asked WeChat to do.
const calls = { payments: [], subscribes: [], navigations: [], toasts: [], sockets: [] };
const storage = new Map();
const answers = {
  login: () => "code",                          // what wx.login gives
  payment: () => ({ errMsg: "requestPayment:ok" }), // throw { errMsg } to fail
  subscribe: (ids) => Object.fromEntries(ids.map((id) => [id, "accept"])),
};

function query(data) {
  return Object.entries(data || {}).map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
}

Object.assign(global.wx, {
  getAppBaseInfo: () => ({ language: "zh_CN", SDKVersion: "3.3.4" }),
  getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ""),
  setStorageSync: (k, v) => { storage.set(k, v); },
  removeStorageSync: (k) => { storage.delete(k); },
  // wx.request as WeChat does it: an object body goes as JSON, a GET's
  // data as the query; the answer is parsed when it is JSON.
  request(o) {
    const method = (o.method || "GET").toUpperCase();
    let url = o.url;
    const init = { method, headers: Object.assign({}, o.header || {}) };
    if (o.data !== undefined && method === "GET") url += (url.includes("?") ? "&" : "?") + query(o.data);
    else if (o.data !== undefined) init.body = typeof o.data === "string" ? o.data : JSON.stringify(o.data);
    fetch(url, init).then(async (res) => {
      const text = await res.text();
      let data = text;
      if (o.dataType !== "text") { try { data = JSON.parse(text); } catch (e) { /* not JSON */ } }
      const header = {};
      res.headers.forEach((v, k) => { header[k] = v; });
      const r = { statusCode: res.status, data, header, errMsg: "request:ok" };
      o.success && o.success(r); o.complete && o.complete(r);
    }, (err) => {
      const r = { errMsg: "request:fail " + err.message };
      o.fail && o.fail(r); o.complete && o.complete(r);
    });
    return { abort() {} };
  },
  // wx.connectSocket as a SocketTask over a real WebSocket.
  connectSocket(o) {
    const ws = new WebSocket(o.url, { headers: o.header || {} });
    const on = { open: [], message: [], close: [], error: [] };
    const task = {
      url: o.url, ws,
      onOpen: (f) => on.open.push(f), onMessage: (f) => on.message.push(f), onClose: (f) => on.close.push(f), onError: (f) => on.error.push(f),
      send(s) { if (ws.readyState === WebSocket.OPEN) { ws.send(s.data); s.success && s.success({}); } else s.fail && s.fail({ errMsg: "sendSocketMessage:fail" }); },
      close(s) { try { ws.close((s && s.code) || 1000); } catch (e) { ws.terminate(); } },
    };
    ws.on("open", () => on.open.forEach((f) => f({ header: {} })));
    ws.on("message", (data) => on.message.forEach((f) => f({ data: data.toString() })));
    ws.on("error", (err) => on.error.forEach((f) => f({ errMsg: err.message })));
    ws.on("close", (code, reason) => on.close.forEach((f) => f({ code, reason: reason.toString() })));
    calls.sockets.push(task);
    return task;
  },
  login(o) { Promise.resolve().then(() => o.success({ code: answers.login(), errMsg: "login:ok" })); },
  requestPayment(o) {
    calls.payments.push(o);
    Promise.resolve().then(() => {
      try { o.success(answers.payment(o)); } catch (e) { o.fail(e); }
    });
  },
  requestSubscribeMessage(o) {
    calls.subscribes.push(o.tmplIds);
    Promise.resolve().then(() => o.success(Object.assign({ errMsg: "requestSubscribeMessage:ok" }, answers.subscribe(o.tmplIds))));
  },
  navigateTo(o) { calls.navigations.push(o.url); },
  redirectTo(o) { calls.navigations.push(o.url); },
  showToast(o) { calls.toasts.push(o.title); },
});

// page loads and renders one page (a Component) and calls its onLoad.
async function page(name, q) {
  const id = simulate.load(path.join(ROOT, "pages", name, name), { rootPath: ROOT });
  const comp = simulate.render(id);
  comp.attach(document.createElement("parent-wrapper"));
  await comp.instance.onLoad(q || {});
  return comp;
}

// until polls cond (which may throw) until it holds: what a page shows
// arrives over the network, so tests wait for it rather than sleep.
async function until(what, cond, ms) {
  const end = Date.now() + (ms || 15000);
  let last;
  for (;;) {
    try { const v = await cond(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error("timed out waiting for " + what + (last ? ": " + last.message : ""));
    await new Promise((r) => setTimeout(r, 50));
  }
}

const text = (comp, sel) => { const el = comp.querySelector(sel); return el ? el.dom.textContent.trim() : null; };

module.exports = { simulate, config, i18n, calls, answers, storage, page, until, text, ROOT };
