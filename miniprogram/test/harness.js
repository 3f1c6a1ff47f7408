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
  comp.styleID = id;
  comp.attach(document.createElement("parent-wrapper"));
  await comp.instance.onLoad(q || {});
  return comp;
}

// preview writes what a page rendered as an HTML file for a screenshot
// (the Go test takes them with chromium) when SHELFLIVE_MP_PREVIEW_DIR is
// set. It is the j-component DOM with the page's and the app's WXSS, 1 rpx
// = 1 px on a 750 px wide page (a 375-pt phone at 2x); built-in components
// get the block or inline layout WeChat gives them. A preview of layout
// and text, not WeChat's own rendering.
const BUILTIN_CSS = `
  body { margin: 0; width: 750px; min-height: 1334px; font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; font-size: 28px; background: #f5f7f5; }
  main, wx-view, wx-scroll-view, wx-live-player { display: block; }
  wx-scroll-view { overflow-y: auto; }
  wx-text { display: inline; }
  wx-image { display: inline-block; width: 320px; height: 240px; overflow: hidden; }
  wx-image img { width: 100%; height: 100%; object-fit: cover; }
  wx-live-player { background: #000; }
  wx-button { display: block; text-align: center; border-radius: 10px; background: #f8f8f8; line-height: 2.55; font-size: 36px; }
  wx-button[size="mini"] { display: inline-block; line-height: 2.3; font-size: 26px; padding: 0 1.34em; }
  wx-input { display: block; height: 1.4em; min-height: 1.4em; }
`;
function preview(comp, name) {
  const dir = process.env.SHELFLIVE_MP_PREVIEW_DIR;
  if (!dir) return;
  const fs = require("fs");
  const wxss = require("miniprogram-simulate/src/wxss");
  const appCSS = wxss.compile(fs.readFileSync(path.join(ROOT, "app.wxss"), "utf8"), { prefix: "main" })
    .replace(/(\d+(\.\d+)?)rpx/g, "$1px").replace(/(^|[},])page\b/g, "$1body");
  const pageCSS = (document.getElementById(comp.styleID) || { textContent: "" }).textContent;
  const dom = comp.dom.cloneNode(true);
  for (const img of dom.querySelectorAll("wx-image")) {
    const src = img.getAttribute("src");
    if (src) { const el = document.createElement("img"); el.setAttribute("src", src); img.appendChild(el); }
  }
  for (const input of dom.querySelectorAll("wx-input")) {
    if (!input.textContent && input.getAttribute("placeholder")) { input.textContent = input.getAttribute("placeholder"); input.style.opacity = ".6"; }
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name + ".html"), "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><style>" + BUILTIN_CSS + appCSS + pageCSS + "</style><body>" + dom.outerHTML + "</body></html>");
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

module.exports = { simulate, config, i18n, calls, answers, storage, page, until, text, preview, ROOT };
