// ShelfLive shared browser helpers: API calls with CSRF, safe DOM building,
// money formatting, toasts and the resumable realtime connection.
"use strict";
(function () {
  const meta = (n) => { const m = document.querySelector('meta[name="' + n + '"]'); return m ? m.content : ""; };
  const SL = {};
  SL.lang = meta("lang") || "zh";
  SL.csrf = meta("csrf");
  // Staff consoles act as staff on routes open to viewers and staff alike.
  SL.defaultHeaders = document.body.classList.contains("staff-console") ? { "X-ShelfLive-As": "staff" } : {};
  SL.t = (zh, en) => (SL.lang === "en" ? en : zh);

  // h builds elements without innerHTML, so user text can never become markup.
  SL.h = function (tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  };

  // bi picks one language out of a server label written "中文 English"
  // (order statuses, roles), so a page never shows both at once.
  SL.bi = (label) => {
    const s = String(label || ""), i = s.indexOf(" ");
    if (i < 0) return s;
    return SL.lang === "en" ? s.slice(i + 1) : s.slice(0, i);
  };
  // fieldText names the offending input of an error in the page's language:
  // "row 3: price" from a spreadsheet import reads （第 3 行 price 列） in Chinese.
  SL.fieldText = (field) => {
    if (!field) return "";
    const m = /^row (\d+)(?:: (.+))?$/.exec(field);
    if (!m) return SL.lang === "en" ? " (" + field + ")" : "（" + field + "）";
    if (SL.lang === "en") return " (row " + m[1] + (m[2] ? ": " + m[2] : "") + ")";
    return "（第 " + m[1] + " 行" + (m[2] ? " " + m[2] + " 列" : "") + "）";
  };
  // kids drops empty children: replaceChildren and append would print
  // null and undefined as text.
  SL.kids = (...list) => list.flat().filter((k) => k !== null && k !== undefined && k !== false);
  SL.yuan = (fen) => (fen < 0 ? "-¥" : "¥") + (Math.abs(fen) / 100).toFixed(2);
  SL.pname = (p) => (SL.lang === "en" && p.name_en ? p.name_en : p.name);
  // SL.photo is a product's photo, or — for a product without one — its
  // first character on a tinted square instead of the browser's
  // broken-image mark.
  SL.photo = (p) => {
    if (p.image) return p.image;
    const c = Array.from((SL.pname(p) || "?").trim())[0] || "?";
    const esc = { "<": "&lt;", ">": "&gt;", "&": "&amp;" }[c] || c;
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" fill="#e7f6ec"/><text x="50" y="50" dy=".35em" text-anchor="middle" font-size="46" font-family="sans-serif" fill="#15803d">' + esc + "</text></svg>");
  };
  // itemName names the product of a row that carries product_name and
  // product_name_en (order and packing lines, trials, pre-sales, clearance).
  SL.itemName = (x) => (SL.lang === "en" && x.product_name_en ? x.product_name_en : x.product_name);
  // kname names a SKU (name, name_en); skuName an order line's SKU
  // (sku_name, sku_name_en).
  SL.kname = (k) => (SL.lang === "en" && k.name_en ? k.name_en : k.name);
  SL.skuName = (x) => (SL.lang === "en" && x.sku_name_en ? x.sku_name_en : x.sku_name || "");
  SL.sname = (s) => (s ? (SL.lang === "en" && s.name_en ? s.name_en : s.name) : "");
  SL.rtitle = (r) => (SL.lang === "en" && r.title_en ? r.title_en : r.title);

  let toastTimer;
  SL.toast = function (msg, ms) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    t.classList.remove("hidden");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => t.classList.add("hidden"), ms || 2600);
  };

  // api calls the JSON API; errors throw an Error carrying the problem document.
  SL.api = async function (method, path, body, headers) {
    const opts = { method, headers: Object.assign({ "Accept": "application/json", "Accept-Language": SL.lang === "en" ? "en" : "zh-CN" }, SL.defaultHeaders, headers || {}), credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    if (method !== "GET" && SL.csrf) opts.headers["X-CSRF-Token"] = SL.csrf;
    let res;
    try { res = await fetch(path, opts); } catch (e) {
      const err = new Error(SL.t("网络不太稳定，请重试", "Network problem; please retry")); err.code = "network"; throw err;
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.detail || data.title || res.statusText);
      err.code = data.code; err.status = res.status; err.field = data.field; err.retryAfter = res.headers.get("Retry-After");
      err.problem = data; // extension members, e.g. the findings of a refused go-live
      throw err;
    }
    return data;
  };

  // English dates name the month ("7 Dec, 20:00"): "07/12" reads as July to
  // half the world. Chinese ones stay 12/07 20:00, as Chinese readers expect.
  SL.fmtTime = (iso) => {
    const d = new Date(iso), year = (x) => x.toLocaleString("en", { timeZone: "Asia/Shanghai", year: "numeric" });
    const o = { timeZone: "Asia/Shanghai", hour12: false, hour: "2-digit", minute: "2-digit" };
    if (SL.lang === "en") Object.assign(o, { month: "short", day: "numeric" }); else Object.assign(o, { month: "2-digit", day: "2-digit" });
    if (year(d) !== year(new Date())) o.year = "numeric"; // another year says so
    return d.toLocaleString(SL.lang === "en" ? "en-GB" : "zh-CN", o);
  };

  // connect opens one WebSocket for several topics and keeps it open: on a
  // drop it reconnects with each topic's epoch.seq so the server replays what
  // was missed (or sends a snapshot when too far behind).
  SL.connect = function (topics, on) {
    const pos = {}; // topic -> {epoch, seq}
    let ws, retry = 0, closed = false;
    const url = () => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const subs = topics.map((t) => "sub=" + encodeURIComponent(pos[t] && pos[t].epoch ? t + "@" + pos[t].epoch + "." + pos[t].seq : t));
      return proto + "//" + location.host + "/api/v1/ws?" + subs.join("&");
    };
    const open = () => {
      ws = new WebSocket(url());
      ws.onopen = () => { retry = 0; on.status && on.status("open"); };
      ws.onmessage = (m) => {
        let f; try { f = JSON.parse(m.data); } catch (e) { return; }
        switch (f.t) {
          case "snapshot": pos[f.topic] = { epoch: f.epoch, seq: f.seq }; on.snapshot && on.snapshot(f.topic, f.data); break;
          case "ev":
            if (pos[f.topic] && f.seq <= pos[f.topic].seq) return; // already applied
            pos[f.topic] = Object.assign(pos[f.topic] || {}, { seq: f.seq });
            on.event && on.event(f.topic, f.type, f.data); break;
          case "batch": on.batch && on.batch(f.topic, f); break;
          case "own": on.own && on.own(f.topic, f.comments || []); break;
          case "me": on.me && on.me(f.topic, f.type, f.data); break;
          case "bye": on.status && on.status("bye", f.code); break;
        }
      };
      ws.onclose = () => {
        on.status && on.status("closed");
        if (closed) return;
        retry = Math.min(retry + 1, 6);
        setTimeout(open, (300 * retry) + Math.random() * 400);
      };
    };
    open();
    setInterval(() => { if (ws && ws.readyState === 1) ws.send('{"t":"ping"}'); }, 25000);
    return { close() { closed = true; ws && ws.close(); } };
  };

  window.SL = SL;

  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => {
    try { await SL.api("POST", "/api/v1/auth/logout", undefined, { "X-ShelfLive-As": "staff" }); } catch (e) { /* already gone */ }
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
  });
})();
