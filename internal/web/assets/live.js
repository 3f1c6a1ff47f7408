// The viewer room: realtime comments, likes, the pinned card and two-tap buying.
"use strict";
(function () {
  const { h, t, api, yuan, toast } = SL;
  const root = document.getElementById("live");
  const slug = root.dataset.slug, roomID = Number(root.dataset.room), merchant = root.dataset.merchant, guide = root.dataset.guide;
  let state = JSON.parse(document.getElementById("room-state").textContent);
  let loggedIn = root.dataset.loggedIn === "1";
  const products = new Map();
  const indexProducts = (list) => { for (const p of list || []) products.set(p.id, p); };
  indexProducts(state.products);
  if (state.pinned) products.set(state.pinned.id, state.pinned);
  let pinnedID = state.pinned ? state.pinned.id : 0;

  const $ = (id) => document.getElementById(id);

  // ---------- video: live (fMP4 or HTTP-FLV, then HLS) or the replay with product jumps ----------
  // The player settings are the ones docs/VIDEO.md measures
  // (internal/video/browser_test.go); TestPlayerSettingsMatchBenchmark keeps
  // them equal. The FLV player's are in live_player.js.
  const HLS_CONFIG = { liveSyncDurationCount: 2 };
  // The players are big (hls.js 620 KB, mpegts.js 270 KB): a page loads the
  // one it needs, when it needs it, and a room that is not on air loads none.
  // The embedded media server's fMP4 needs only live_mse.js (a few KB); FLV
  // (an external media server) needs mpegts.js. A room on air has its
  // player script in the page already (async, right after the <video>):
  // wait for that script instead of adding another.
  const loaded = {};
  function loadScript(src) {
    if (!loaded[src]) loaded[src] = new Promise((ok, fail) => {
      const inPage = [...document.scripts].find((el) => el.getAttribute("src") === src);
      if (inPage && window.SLPlayer) return ok();
      const el = inPage || h("script", { src });
      el.addEventListener("load", ok); el.addEventListener("error", fail);
      if (!inPage) document.head.append(el);
    });
    return loaded[src];
  }
  // iPhone Safari (ManagedMediaSource only) plays HLS natively instead.
  const mseOK = () => !!window.MediaSource && MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"');
  async function withHls() { await loadScript(root.dataset.hlsJs); return window.Hls && Hls.isSupported() ? Hls : null; }

  function note(text) { const n = $("poster-note"); if (!n) return; if (text) { n.textContent = text; n.classList.remove("hidden"); } else if (!$("video").classList.contains("hidden")) n.classList.add("hidden"); }
  let playing = false, livePlayer = null;
  function startVideo() {
    const pb = state.playback;
    if (!pb || playing) return;
    if (state.room.status === "ended") { if (pb.replay) startReplay(pb.replay); return; }
    if (!pb.on_air) return;
    playing = true;
    const v = $("video");
    const show = () => { v.classList.remove("hidden"); note(""); showUnmute(); };
    const tryHLS = async () => {
      if (!pb.hls) return;
      v.addEventListener("playing", show, { once: true });
      if (v.canPlayType("application/vnd.apple.mpegurl")) v.src = pb.hls; // Safari, iOS: native HLS, no script
      else {
        const H = await withHls().catch(() => null);
        if (!H) return;
        const hls = new H(HLS_CONFIG); hls.loadSource(pb.hls); hls.attachMedia(v);
        livePlayer = { destroy: () => hls.destroy() };
      }
      v.play().catch(() => {});
    };
    const src = pb.mp4 || pb.flv;
    if (src && mseOK()) {
      loadScript(pb.mp4 ? root.dataset.mseJs : root.dataset.flvJs).then(() => {
        if (!window.SLPlayer || !SLPlayer.supported()) { if (window.SLPlayer) SLPlayer.dropEarly(); return tryHLS(); }
        const player = SLPlayer.adopt(src) || SLPlayer.start(src, v);
        livePlayer = player;
        if (!v.paused && v.readyState >= 3) show(); // the early player is playing already
        else v.addEventListener("playing", show, { once: true });
        player.onError = () => { player.destroy(); if (livePlayer === player) livePlayer = null; tryHLS(); };
        if (player.failed) player.onError();
      }, tryHLS);
    } else { if (window.SLPlayer) SLPlayer.dropEarly(); tryHLS(); }
  }
  function stopLive() {
    if (livePlayer) { try { livePlayer.destroy(); } catch (e) { /* already gone */ } livePlayer = null; }
    const v = $("video");
    v.removeAttribute("src"); v.load(); v.classList.add("hidden");
    $("unmute").classList.add("hidden");
    playing = false;
  }

  // Browsers start video only muted without a tap: offer one obvious tap
  // for sound while the live plays muted.
  function showUnmute() { const v = $("video"); $("unmute").classList.toggle("hidden", !v.muted || root.classList.contains("replay")); }
  $("unmute").addEventListener("click", () => { const v = $("video"); v.muted = false; v.volume = 1; v.play().catch(() => {}); showUnmute(); });
  $("video").addEventListener("volumechange", showUnmute);

  // The video first: a phone on a slow network waits for nothing else, so
  // the player starts before the rest of the page is built (a room on air
  // only; a replay waits for the clips and sheets below).
  if (state.playback && state.playback.on_air && state.room.status !== "ended") startVideo();
  const available = (p) => (p.skus || []).reduce((n, k) => n + (k.active ? k.available : 0), 0);
  // Units of lots on hold (cold-chain review): nothing sellable but stock exists.
  const onHold = (p) => available(p) <= 0 && (p.skus || []).some((k) => k.active && k.held > 0);
  const photo = SL.photo;
  const HOLD_TEXT = () => t("暂停销售 — 冷链复核中", "On hold — cold chain under review");
  const traceLink = (p, id) => { const k = (p.skus || []).find((k) => k.gtin); return k ? h("a", { class: "trace-inline", id: id || null, href: "/trace/01/" + k.gtin }, t("溯源", "Trace") + " ›") : null; };
  // zhOnly shows text that has no English version yet: in English mode it is
  // marked as Chinese (a small 中 tag) instead of passing as a translation.
  const zhOnly = (text) => !text ? "" : SL.lang !== "en" ? text : h("span", { class: "zh-fallback", lang: "zh-CN", title: "Only in Chinese so far" }, text);
  // flashSKU names a flash sale's SKU from the product's SKUs when it is
  // listed (they carry name_en), else from the sale.
  const flashSKU = (p, f) => { const k = p && (p.skus || []).find((k) => k.id === f.sku_id); return k ? SL.kname(k) : f.sku_name; };
  const minPrice = (p) => Math.min(...(p.skus || []).map((k) => k.price_fen));
  const listPrice = (p) => { const k = (p.skus || []).find((k) => k.price_fen === minPrice(p)); return k ? k.list_price_fen : 0; };

  // ---------- analytics: what this viewer saw and did (never waited for) ----------
  const shown = new Set();
  function track(kind, productID) {
    if (!productID) return;
    if (kind === "card_shown") { if (shown.has(productID)) return; shown.add(productID); }
    api("POST", "/api/v1/rooms/" + slug + "/events", { kind, product_id: productID }).catch(() => {});
  }

  // ---------- pinned card ----------
  function renderPinned() {
    const box = $("pinned");
    const p = products.get(pinnedID);
    root.classList.toggle("has-pinned", !!p);
    if (!p) { box.classList.add("hidden"); box.replaceChildren(); return; }
    if (state.room.status === "live") track("card_shown", p.id);
    const left = available(p);
    const held = onHold(p);
    const stock = held ? h("span", { class: "soldout", id: "pinned-hold" }, HOLD_TEXT())
      : left <= 0 ? h("span", { class: "soldout" }, t("已售罄", "Sold out"))
      : h("span", { class: "stock" + (left <= 10 ? " low" : "") }, t("仅剩 ", "Only ") + left + t(" 件", " left"));
    box.replaceChildren(
      h("img", { src: photo(p), alt: SL.pname(p), class: "tap", id: "pinned-img", onclick: () => openDetail(p.id) }),
      h("div", { class: "info" },
        h("span", { class: "tag" }, state.room.status === "ended" ? t("本场商品", "From this live") : t("讲解中", "Now featuring")),
        h("button", { class: "name tap", type: "button", id: "pinned-name", onclick: () => openDetail(p.id) }, SL.pname(p)),
        h("span", { class: "sub" }, zhOnly(p.subtitle)),
        h("span", { class: "facts" }, t("产地 ", "Origin "), zhOnly(p.origin) || "—", p.allergens && p.allergens !== "无" ? [" · " + t("过敏原 ", "Allergens "), zhOnly(p.allergens)] : null, " ", traceLink(p, "trace-link")),
        h("div", { class: "bottom" },
          h("div", {}, h("div", { class: "price", id: "pinned-price" }, h("small", {}, "¥"), (minPrice(p) / 100).toFixed(2), listPrice(p) > minPrice(p) ? h("del", {}, yuan(listPrice(p))) : null), stock),
          h("div", { class: "card-actions" },
            (state.clips || []).some((c) => c.product_id === p.id) ? h("button", { class: "btn btn-sm", type: "button", id: "clip-btn", onclick: () => jumpTo(p.id) }, t("看讲解", "Watch")) : null,
            h("button", { class: "btn btn-buy", id: "buy-btn", type: "button", disabled: left <= 0, onclick: () => openBuy(p.id) }, held ? t("暂停销售", "On hold") : left <= 0 ? t("已抢光", "Sold out") : t("立即购买", "Buy now")))
        )
      )
    );
    box.classList.remove("hidden");
  }

  // ---------- flash sale (秒杀) ----------
  // A room may run several sales at once (a clearance live has one per
  // item): the card shows one at a time, with ‹ › to switch, and rotates
  // on its own while the viewer does not touch it.
  let flash = null; // the sale on the card
  let flashes = [], flashIdx = 0, flashTouched = 0;
  function setFlashes(list) {
    const cur = flash && flash.id;
    flashes = (list || []).filter((f) => f.status !== "ended").sort((a, b) => (a.status === "running" ? 0 : 1) - (b.status === "running" ? 0 : 1) || a.id - b.id);
    const keep = flashes.findIndex((f) => f.id === cur);
    flashIdx = keep >= 0 ? keep : Math.min(flashIdx, Math.max(0, flashes.length - 1));
    flash = flashes[flashIdx] || null;
  }
  const pickFlash = (list) => { setFlashes(list); return flash; };
  const upsertFlash = (sale) => { setFlashes(flashes.filter((f) => f.id !== sale.id).concat([sale])); };
  const saleFor = (productID) => flashes.find((f) => f.product_id === productID && f.status === "running" && !f.paused && Date.parse(f.starts_at) <= Date.now() && f.remaining > 0);
  const stepFlash = (d) => { flashTouched = Date.now(); flashIdx = (flashIdx + d + flashes.length) % flashes.length; flash = flashes[flashIdx]; renderFlash(); };
  setInterval(() => { if (flashes.length > 1 && Date.now() - flashTouched > 15000 && !document.querySelector(".sheet:not(.hidden)")) { flashIdx = (flashIdx + 1) % flashes.length; flash = flashes[flashIdx]; renderFlash(); } }, 6000);
  flash = pickFlash(state.flash_sales);
  const clock = (ms) => { const s = Math.max(0, Math.floor(ms / 1000)); const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), x = s % 60; return (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(x).padStart(2, "0"); };
  function renderFlash() {
    const box = $("flash");
    if (!flash) { box.classList.add("hidden"); box.replaceChildren(); root.classList.remove("has-flash"); return; }
    const p = products.get(flash.product_id);
    const running = flash.status === "running" && Date.parse(flash.starts_at) <= Date.now();
    const soldOut = running && flash.remaining <= 0;
    const paused = running && flash.paused; // a lot of the sale is under cold-chain review
    const until = running ? Date.parse(flash.ends_at) : Date.parse(flash.starts_at);
    const pct = Math.round(100 * (flash.quantity - flash.remaining) / Math.max(1, flash.quantity));
    box.replaceChildren(
      h("div", { class: "flash-head" }, h("b", {}, "⚡ " + t("限时秒杀", "Flash sale")),
        flashes.length > 1 ? h("span", { class: "flash-nav" }, h("button", { type: "button", "aria-label": t("上一个", "Previous"), onclick: () => stepFlash(-1) }, "‹"),
          h("span", { id: "flash-pos" }, (flashIdx + 1) + "/" + flashes.length), h("button", { type: "button", "aria-label": t("下一个", "Next"), onclick: () => stepFlash(1) }, "›")) : null,
        h("span", { class: "flash-clock" }, running ? t("距结束 ", "Ends in ") : t("距开抢 ", "Starts in "), h("b", { id: "flash-clock" }, clock(until - Date.now())))),
      h("div", { class: "flash-body" },
        p && p.image ? h("img", { src: p.image, alt: "" }) : null,
        h("div", { class: "info" },
          h("span", { class: "name" }, (p ? SL.pname(p) : flash.product_name) + " · " + flashSKU(p, flash)),
          flash.lot_expires_at ? h("span", { class: "expiry", id: "flash-expiry" }, t("临期 · 到期 ", "Near expiry · use by ") + SL.fmtTime(flash.lot_expires_at)) : null,
          h("div", { class: "price" }, h("small", {}, "¥"), (flash.price_fen / 100).toFixed(2), flash.list_price_fen > flash.price_fen ? h("del", {}, yuan(flash.list_price_fen)) : null),
          h("div", { class: "bar" }, h("i", { style: null, dataset: { pct } })),
          paused ? h("span", { class: "stock soldout", id: "flash-paused" }, HOLD_TEXT())
            : h("span", { class: "stock" + (soldOut ? " soldout" : "") , id: "flash-left" }, soldOut ? t("已抢光", "Sold out") : t("剩余 ", "") + flash.remaining + t(" 件 · 每人限购 ", " left · limit ") + flash.per_user_limit)),
        h("button", { class: "btn btn-buy", type: "button", id: "flash-buy", disabled: !running || soldOut || paused, onclick: () => openBuy(flash.product_id, flash) },
          paused ? t("暂停销售", "On hold") : soldOut ? t("已抢光", "Sold out") : running ? t("马上抢", "Grab it") : t("即将开抢", "Soon"))));
    const bar = box.querySelector(".bar i");
    bar.style.width = pct + "%";
    box.classList.remove("hidden");
    root.classList.add("has-flash");
  }
  setInterval(() => {
    if (!flash) return;
    const running = flash.status === "running" && Date.parse(flash.starts_at) <= Date.now();
    const el = $("flash-clock");
    const left = (running ? Date.parse(flash.ends_at) : Date.parse(flash.starts_at)) - Date.now();
    if (el) el.textContent = clock(left);
    if (!running && left <= 0 && flash.status === "running") renderFlash();
  }, 500);

  // ---------- trace card pushed by the host ----------
  let traceTimer;
  function showTraceCard(d) {
    const box = $("trace-card");
    box.replaceChildren(...SL.kids(
      d.image ? h("img", { src: d.image, alt: "" }) : null,
      h("div", { class: "info" },
        h("b", {}, t("产地溯源", "Where it comes from")),
        h("span", {}, (SL.lang === "en" && d.name_en ? d.name_en : d.name), d.origin ? [" · ", zhOnly(d.origin)] : null),
        h("span", { class: "muted small" }, t("全程冷链记录、批次与检验信息", "Cold-chain record, lot and checks"))),
      h("a", { class: "btn btn-primary btn-sm", id: "trace-card-open", href: d.url }, t("查看", "Open")),
      h("button", { class: "close", type: "button", "aria-label": t("关闭", "Close"), onclick: () => box.classList.add("hidden") }, "×")));
    box.classList.remove("hidden");
    clearTimeout(traceTimer);
    traceTimer = setTimeout(() => box.classList.add("hidden"), 30000);
  }

  // ---------- comments ----------
  const list = $("comments");
  function addComment(c, cls) {
    if (c.id && list.querySelector('[data-id="' + CSS.escape(String(c.id)) + '"]')) return;
    const li = h("li", { class: [c.host ? "host" : "", cls || ""].join(" ").trim(), dataset: { id: c.id || "" } }, h("span", { class: "who" }, c.name || c.author_name), c.text || c.body);
    if (c.id && !c.host && !cls) li.addEventListener("click", () => reportMenu(li, c.id));
    list.append(li);
    while (list.children.length > 40) list.firstElementChild.remove();
  }
  // reportMenu: tap someone's comment to report it (spam, abuse, contact
  // details); the shop's moderators see it in the studio at once.
  function reportMenu(li, id) {
    const old = li.querySelector(".report-acts");
    if (old) { old.remove(); return; }
    const report = async (ev, reason) => {
      ev.stopPropagation();
      try { await api("POST", "/api/v1/rooms/" + slug + "/comments/" + id + "/report", { reason }); toast(t("已举报，感谢反馈", "Reported, thank you")); }
      catch (e) { toast(e.message); }
      li.querySelector(".report-acts")?.remove();
    };
    li.append(h("div", { class: "report-acts" }, h("span", { class: "small" }, t("举报：", "Report: ")),
      h("button", { type: "button", onclick: (ev) => report(ev, "spam") }, t("垃圾广告", "Spam")),
      h("button", { type: "button", onclick: (ev) => report(ev, "abuse") }, t("辱骂", "Abuse")),
      h("button", { type: "button", onclick: (ev) => report(ev, "contact") }, t("留联系方式", "Contact details"))));
  }
  function system(text) { addComment({ name: t("公告", "Notice"), text }, "system"); }

  // ---------- realtime ----------
  // A room for a segment (members only) keeps its goods on lineup:<id>,
  // which only viewers in the segment may follow; its room:<id> snapshot
  // comes without goods, so a member keeps what the lineup topic brought.
  const topics = ["room:" + roomID];
  if (state.gate && !state.locked) topics.push("lineup:" + roomID);
  SL.connect(topics, {
    snapshot(topic, s) {
      if (!s || !s.room) return;
      if (!s.locked || state.locked) {
        state = s; indexProducts(s.products);
        if (s.pinned) products.set(s.pinned.id, s.pinned);
        pinnedID = s.pinned ? s.pinned.id : 0;
        flash = pickFlash(s.flash_sales);
        renderPinned(); renderFlash();
      } else {
        state.room.status = s.room.status;
      }
      setStatus(s.room.status);
      if (SL.polls) SL.polls.update(s.poll || null);
      if (SL.coupons) SL.coupons.update(s.coupons || [], s.draws || []);
      if (SL.presale) SL.presale.update(s.presale || null);
      if (SL.cocreate) { SL.cocreate.update(s.cocreate || null); SL.cocreate.group(s.group || null); }
      if (s.room.status === "ended") ended(); else startVideo();
      $("viewers").textContent = s.viewers; setLikes(s.likes);
    },
    event(topic, type, d) {
      switch (type) {
        case "card.pinned": products.set(d.product.id, d.product); pinnedID = d.product.id; renderPinned(); break;
        case "card.unpinned": pinnedID = 0; renderPinned(); break;
        case "product.updated": products.set(d.product.id, d.product); if (d.product.id === pinnedID) renderPinned(); refreshSheet(d.product); break;
        case "room.audience": location.reload(); break; // who may see the goods changed
        case "room.status": state.room.status = d.status; setStatus(d.status); if (d.status === "ended") ended(); break;
        case "stream.status":
          if (state.room.status === "ended") break; // the replay takes over
          if (d.on_air) { state.playback = d.playback || state.playback; if (state.playback) state.playback.on_air = true; note(""); startVideo(); }
          else { note(t("主播网络波动，正在重连…", "The host is reconnecting…")); }
          break;
        case "flash.started": case "flash.scheduled": upsertFlash(d.sale); renderFlash(); if (d.sale.status === "running") system(t("秒杀开始啦！", "The flash sale has started!")); break;
        case "flash.stock": { const f = flashes.find((x) => x.id === d.sale_id); if (f) { f.remaining = d.remaining; f.paused = !!d.paused; if (f === flash) { renderFlash(); refreshSheetFlash(); } } break; }
        case "flash.ended": setFlashes(flashes.filter((x) => x.id !== d.sale_id)); renderFlash(); break;
        case "trace.card": showTraceCard(d); break;
        case "poll.opened": case "poll.results": case "poll.closed": if (SL.polls) SL.polls.update(d.poll); break;
        case "coupon.pushed": case "coupon.stock": case "coupon.ended": case "draw.opened": case "draw.entries": case "draw.drawn": if (SL.coupons) SL.coupons.event(type, d); break;
        case "presale.progress": case "presale.settled": if (SL.presale) SL.presale.update(d.presale); break;
        case "cocreate.card": case "cocreate.results": case "cocreate.closed": if (SL.cocreate) SL.cocreate.update(d.draft); break;
        case "group.card": if (SL.cocreate) SL.cocreate.group(d.group); break;
        case "comment.deleted": { const li = list.querySelector('[data-id="' + CSS.escape(String(d.id)) + '"]'); if (li) li.remove(); break; }
      }
    },
    batch(topic, b) {
      for (const c of b.comments || []) addComment(c);
      const dr = $("dropped");
      if (b.dropped > 0) { dr.textContent = t("评论太热闹，另有 " + b.dropped + " 条未显示", b.dropped + " more comments not shown"); dr.classList.remove("hidden"); }
      if (b.viewers !== undefined) $("viewers").textContent = b.viewers;
      if (b.likes !== undefined) setLikes(b.likes);
      if (b.likes_delta > 0) for (let i = 0; i < Math.min(b.likes_delta, 4); i++) floatHeart();
    },
    own(topic, comments) { for (const c of comments) addComment(c, "mine"); },
  });

  function setStatus(st) {
    const el = $("room-status");
    el.classList.toggle("pill-live", st === "live");
    el.textContent = st === "live" ? "● " + t("直播中", "LIVE") : st === "ended" ? t("已结束", "Ended") : t("未开始", "Soon");
  }
  let likeTotal = Number($("likes").textContent) || 0;
  function setLikes(n) { if (n > likeTotal) likeTotal = n; $("likes").textContent = likeTotal >= 10000 ? (likeTotal / 10000).toFixed(1) + t("万", "w") : likeTotal; }

  // ---------- likes: taps are counted locally and sent in batches ----------
  let pendingLikes = 0, likeTimer = null;
  function floatHeart() {
    const box = $("hearts");
    // One glyph every font has, in several colours (colour emoji need a font desktops may lack).
    const colors = ["#ff4d6d", "#22c55e", "#fb923c", "#facc15", "#f472b6"];
    const el = h("span", { class: "heart" }, "❤");
    el.style.color = colors[Math.floor(Math.random() * colors.length)];
    el.style.setProperty("--dx", (Math.random() * 60 - 40) + "px");
    box.append(el);
    setTimeout(() => el.remove(), 1900);
  }
  $("like-btn").addEventListener("click", () => {
    pendingLikes++; likeTotal++; setLikes(likeTotal); floatHeart();
    if (!likeTimer) likeTimer = setTimeout(async () => {
      const n = Math.min(pendingLikes, 50); pendingLikes = 0; likeTimer = null;
      try { await api("POST", "/api/v1/rooms/" + slug + "/likes", { count: n }); } catch (e) { /* likes are best effort */ }
    }, 600);
  });

  // ---------- share ----------
  $("share-btn").addEventListener("click", async () => {
    try {
      const s = await api("POST", "/api/v1/rooms/" + slug + "/shares" + (guide ? "?g=" + encodeURIComponent(guide) : ""));
      const url = location.origin + s.path;
      if (navigator.share) { try { await navigator.share({ title: s.title, url }); return; } catch (e) { /* fall back to copy */ } }
      try { await navigator.clipboard.writeText(url); toast(t("链接已复制，快去分享吧", "Link copied — share it!")); }
      catch (e) { toast(url, 6000); }
    } catch (e) { toast(e.message); }
  });

  // ---------- comments out ----------
  $("comment-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("comment-input");
    const text = input.value.trim();
    if (!text) return;
    if (!loggedIn) { openLogin(() => $("comment-form").requestSubmit()); return; }
    try {
      const c = await api("POST", "/api/v1/rooms/" + slug + "/comments", { text });
      input.value = "";
      addComment({ id: String(c.id), name: c.author_name, text: c.body }, "mine");
    } catch (e) {
      if (e.status === 401) { loggedIn = false; openLogin(() => $("comment-form").requestSubmit()); return; }
      toast(e.message);
    }
  });

  // ---------- sheets ----------
  const sheet = $("sheet"), backdrop = $("sheet-backdrop");
  let sheetProduct = null;
  function showSheet(...content) { sheet.replaceChildren(...SL.kids(content)); sheet.classList.remove("hidden"); backdrop.classList.remove("hidden"); }
  function closeSheet() { sheet.classList.add("hidden"); backdrop.classList.add("hidden"); sheetProduct = null; }
  backdrop.addEventListener("click", closeSheet);
  const closeBtn = () => h("button", { class: "close", type: "button", "aria-label": t("关闭", "Close"), onclick: closeSheet }, "×");

  $("bag-btn").addEventListener("click", () => {
    const items = [...(state.products || [])].map((p) => products.get(p.id) || p);
    showSheet(
      h("div", { class: "sheet-head" }, h("h2", {}, t("本场商品", "In this live") + " (" + items.length + ")"), closeBtn()),
      h("ul", { class: "product-grid" }, items.map((p) => h("li", {},
        h("img", { src: photo(p), alt: "", class: "tap", onclick: () => openDetail(p.id) }),
        h("div", { class: "grow" }, h("button", { class: "name tap", type: "button", dataset: { detail: p.id }, onclick: () => openDetail(p.id) }, SL.pname(p)), h("div", { class: "muted small" }, zhOnly(p.subtitle)), h("div", { class: "price" }, yuan(minPrice(p)))),
        h("div", { class: "card-actions" },
          (state.clips || []).some((c) => c.product_id === p.id) ? h("button", { class: "btn btn-sm", type: "button", dataset: { clip: p.id }, onclick: () => jumpTo(p.id) }, t("讲解回放", "Explanation")) : null,
          clipPageOf(p.id) ? h("a", { class: "btn btn-sm", href: clipPageOf(p.id).url, dataset: { clipPage: clipPageOf(p.id).id } }, t("短视频", "Clip")) : null,
          traceLink(p),
          h("button", { class: "btn btn-buy btn-sm", type: "button", disabled: available(p) <= 0 && !saleFor(p.id), onclick: () => openBuy(p.id, saleFor(p.id)) }, saleFor(p.id) ? t("抢购", "Grab") : available(p) > 0 ? t("购买", "Buy") : onHold(p) ? t("暂停销售", "On hold") : t("售罄", "Sold out")))
      )))
    );
  });

  // product detail: everything a shopper asks before buying food
  function openDetail(productID) {
    const p = products.get(productID);
    if (!p) return;
    const storage = { chilled: t("冷藏 0–4 ℃", "Chilled 0–4 °C"), frozen: t("冷冻 −18 ℃ 以下", "Frozen, −18 °C or colder"), ambient: t("常温", "Room temperature") }[p.storage];
    const fact = (label, value) => value ? h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value)) : null;
    const left = available(p);
    sheetProduct = null;
    showSheet(
      h("div", { class: "sheet-head" }, h("h2", { id: "detail-name" }, SL.pname(p)), closeBtn()),
      p.image ? h("img", { class: "detail-photo", src: p.image, alt: SL.pname(p) }) : null,
      p.subtitle ? h("p", { class: "muted" }, zhOnly(p.subtitle)) : null,
      h("div", { class: "price" }, h("small", {}, "¥"), (minPrice(p) / 100).toFixed(2), listPrice(p) > minPrice(p) ? h("del", {}, yuan(listPrice(p))) : null),
      p.description ? h("p", {}, zhOnly(p.description)) : null,
      h("dl", { class: "facts-list", id: "detail-facts" },
        fact(t("规格", "Options"), p.skus.filter((k) => k.active).map((k) => SL.kname(k) + " " + yuan(k.price_fen)).join(" · ")),
        fact(t("产品规格", "Specs"), zhOnly(p.specs)),
        fact(t("配料", "Ingredients"), zhOnly(p.ingredients)),
        fact(t("过敏原", "Allergens"), zhOnly(p.allergens)),
        fact(t("产地", "Origin"), zhOnly(p.origin)),
        fact(t("储存", "Storage"), storage),
        fact(t("保质期", "Shelf life"), p.shelf_days ? p.shelf_days + t(" 天", " days") : "")),
      h("div", { class: "sheet-total" }, traceLink(p, "detail-trace") || h("span"),
        h("button", { class: "btn btn-buy", type: "button", id: "detail-buy", disabled: left <= 0, onclick: () => openBuy(p.id, saleFor(p.id)) }, left > 0 ? t("立即购买", "Buy now") : onHold(p) ? t("暂停销售", "On hold") : t("已售罄", "Sold out"))));
  }

  // login: phone + one-time code, inside the page
  SL.openLogin = (then) => openLogin(then); // for the poll card (live_polls.js)
  SL.loggedIn = () => loggedIn;
  function openLogin(then) {
    const phone = h("input", { id: "login-phone", inputmode: "tel", maxlength: "14", placeholder: t("手机号", "Mobile number"), autocomplete: "tel" });
    const code = h("input", { id: "login-code", inputmode: "numeric", maxlength: "6", placeholder: t("6位验证码", "6-digit code"), autocomplete: "one-time-code" });
    const devBox = h("div", { class: "otp-dev hidden", id: "otp-dev" });
    const err = h("p", { class: "form-error hidden", role: "alert" });
    const showErr = (m) => { err.textContent = m; err.classList.remove("hidden"); };
    const send = h("button", { class: "btn", type: "button", id: "otp-send", onclick: async () => {
      err.classList.add("hidden");
      try {
        const r = await api("POST", "/api/v1/auth/otp", { merchant, phone: phone.value });
        send.disabled = true; let n = 60; const tick = setInterval(() => { send.textContent = n-- + "s"; if (n < 0) { clearInterval(tick); send.disabled = false; send.textContent = t("重新发送", "Resend"); } }, 1000);
        if (r.dev_code) { devBox.textContent = t("开发模式：验证码 ", "Dev mode: your code is ") + r.dev_code; devBox.classList.remove("hidden"); }
        code.focus();
      } catch (e) { showErr(e.message); }
    } }, t("获取验证码", "Send code"));
    const submit = h("button", { class: "btn btn-primary btn-block", type: "submit", id: "login-go" }, t("登录并继续", "Log in and continue"));
    const form = h("form", { onsubmit: async (ev) => {
      ev.preventDefault(); err.classList.add("hidden");
      try {
        const r = await api("POST", "/api/v1/auth/otp/verify", { merchant, phone: phone.value, code: code.value });
        SL.csrf = r.csrf; loggedIn = true; closeSheet(); toast(t("登录成功", "Logged in"));
        if (then) then();
      } catch (e) { showErr(e.message); }
    } },
      h("label", {}, t("手机号", "Mobile number"), h("div", { class: "row-form" }, phone, send)),
      devBox,
      h("label", {}, t("验证码", "Code"), code),
      err, submit,
      h("p", { class: "muted small" }, t("登录即表示同意用户协议与隐私政策。手机号仅用于订单与取货通知。", "By logging in you accept the terms and privacy policy. Your number is only used for orders and pickup notices.")));
    showSheet(h("div", { class: "sheet-head" }, h("h2", {}, t("手机号登录", "Log in with your phone")), closeBtn()), form);
    setTimeout(() => phone.focus(), 50);
  }

  // buy: SKU, quantity, pickup store (nearest first) or delivery, then pay
  let idemKey = "";
  let here = null;
  // The location is asked only when the buyer wants the nearest store
  // first, never on opening the room.
  // pinIcon is a map pin drawn in SVG: emoji fonts are missing on many desktops.
  function pinIcon() {
    const ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), path = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("class", "ico"); svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", "M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z");
    svg.append(path);
    return svg;
  }
  function locate() {
    if (!navigator.geolocation) { toast(t("此浏览器无法定位", "This browser cannot tell your location")); return; }
    navigator.geolocation.getCurrentPosition((p) => { here = { lat: p.coords.latitude, lng: p.coords.longitude }; storeCache = { sku: 0, list: [] }; renderBuy(); },
      () => toast(t("未能获取位置，门店按默认顺序排列", "No location: stores stay in the default order")), { timeout: 8000, maximumAge: 600000 });
  }

  function openBuy(productID, sale) {
    const p = products.get(productID);
    if (!p) return;
    track("card_open", productID);
    if (!loggedIn) { openLogin(() => openBuy(productID, sale)); return; }
    idemKey = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    const st = { sku: sale ? sale.sku_id : (p.skus.find((k) => k.active && k.available > 0) || p.skus[0]).id, qty: 1, mode: "pickup", store: sale ? sale.store_id : 0, sale: sale || null };
    sheetProduct = { p, st };
    renderBuy();
  }
  function refreshSheet(p) { if (sheetProduct && sheetProduct.p.id === p.id && !sheetProduct.st.sale) { sheetProduct.p = p; renderBuy(); } }
  function refreshSheetFlash() { if (sheetProduct && sheetProduct.st.sale && flash && sheetProduct.st.sale.id === flash.id) { sheetProduct.st.sale = flash; const el = $("sheet-flash-left"); if (el) el.textContent = flash.remaining > 0 ? t("剩余 ", "Left: ") + flash.remaining : t("已抢光", "Sold out"); } }

  async function loadStores(skuID) {
    let q = "?sku=" + skuID;
    if (here) q += "&lat=" + here.lat + "&lng=" + here.lng;
    const r = await api("GET", "/api/v1/rooms/" + slug + "/stores" + q);
    return r.stores;
  }

  let storeCache = { sku: 0, list: [] };
  let slotCache = { store: 0, list: [] };
  let deliveryCache = { key: "", quote: null, err: null };
  // locatePoint takes the buyer's current location as the delivery
  // address's point (no map key: the browser's own location).
  function locatePoint() {
    if (!navigator.geolocation) { toast(t("此浏览器无法定位", "This browser cannot tell your location")); return; }
    navigator.geolocation.getCurrentPosition((p) => { if (sheetProduct) { sheetProduct.st.point = { lat: +p.coords.latitude.toFixed(6), lng: +p.coords.longitude.toFixed(6) }; renderBuy(); } },
      () => toast(t("未能获取位置", "Could not get your location")), { timeout: 8000, maximumAge: 60000 });
  }
  async function renderBuy() {
    if (!sheetProduct) return;
    const { p, st } = sheetProduct;
    const sku = p.skus.find((k) => k.id === st.sku) || p.skus[0];
    if (st.sale) return renderFlashBuy(p, sku, st);
    if (storeCache.sku !== sku.id) { try { storeCache = { sku: sku.id, list: await loadStores(sku.id) }; } catch (e) { storeCache = { sku: 0, list: [] }; } }
    if (!sheetProduct) return;
    const stores = storeCache.list;
    if (!st.store || !stores.some((s) => s.id === st.store && s.available >= st.qty)) {
      const first = stores.find((s) => s.available >= st.qty); st.store = first ? first.id : 0;
    }
    // Pickup slots of the chosen store (stores that book pickups into slots).
    if (st.mode === "pickup" && st.store && slotCache.store !== st.store) {
      try { slotCache = { store: st.store, list: (await api("GET", "/api/v1/rooms/" + slug + "/stores/" + st.store + "/slots")).slots }; } catch (e) { slotCache = { store: st.store, list: [] }; }
      if (!sheetProduct) return;
    }
    // A member pays the member price (the order's transaction charges it).
    const mp = SL.member && state.member_prices ? state.member_prices[sku.id] : 0;
    const unitFen = mp && mp < sku.price_fen ? mp : sku.price_fen;
    const goods = unitFen * st.qty;
    // Same-city delivery: the fee by distance to the point the buyer chose
    // and the delivering store's slots (the order charges the same).
    let dq = null;
    if (st.mode === "delivery") {
      const key = (st.point ? st.point.lat + "," + st.point.lng : "-") + ":" + goods;
      if (deliveryCache.key !== key) {
        try { deliveryCache = { key, quote: await api("GET", "/api/v1/rooms/" + slug + "/delivery-quote?goods_fen=" + goods + (st.point ? "&lat=" + st.point.lat + "&lng=" + st.point.lng : "")), err: null }; }
        catch (e) { deliveryCache = { key, quote: null, err: e }; }
        if (!sheetProduct) return;
      }
      dq = deliveryCache;
    }
    const slots = st.mode === "pickup" ? slotCache.list : dq && dq.quote ? dq.quote.slots : [];
    if (slots.length && !slots.some((x) => x.start === st.slot && x.left > 0)) { const free = slots.find((x) => x.left > 0); st.slot = free ? free.start : ""; }
    const fee = dq && dq.quote ? dq.quote.fee_fen : 0;
    const total = goods + fee;
    const km = (m) => (m >= 1000 ? (m / 1000).toFixed(1) + " km" : Math.round(m) + " m");
    const deliveryInfo = () => {
      if (!dq) return null;
      const usePoint = h("button", { class: "btn btn-sm btn-ghost locate", type: "button", id: "use-location", onclick: locatePoint }, pinIcon(), st.point ? t("重新定位", "Locate again") : t("使用当前位置作为收货位置", "Use my location for the address"));
      if (dq.err) {
        const msg = dq.err.code === "beyond_delivery_radius" ? t("该位置超出门店配送范围", "That place is beyond the stores' delivery range")
          : dq.err.code === "delivery_point_required" ? t("同城配送按距离计费：请先确定收货位置", "Same-city delivery is priced by distance: set the address's location first") : dq.err.message;
        return h("div", { class: "delivery-quote", id: "delivery-quote" }, h("p", { class: "small " + (dq.err.code === "delivery_point_required" ? "muted" : "form-error"), id: "delivery-quote-error", dataset: { code: dq.err.code || "" } }, msg), usePoint);
      }
      const q = dq.quote;
      if (!q.same_city) return null;
      return h("div", { class: "delivery-quote", id: "delivery-quote" },
        h("p", { class: "small" }, t("由 ", "From ") + (SL.lang === "en" && q.store_name_en ? q.store_name_en : q.store_name) + t(" 配送 · 距离 ", " · ") + km(q.distance_m) + " · ",
          h("b", { id: "delivery-fee", dataset: { fee: q.fee_fen } }, q.fee_fen ? t("配送费 ", "Delivery ") + yuan(q.fee_fen) : t("免配送费", "Free delivery"))),
        h("p", { class: "small muted", id: "delivery-tiers" }, q.tiers.map((x) => "≤" + km(x.max_m) + " " + yuan(x.fee_fen)).join(" · ") + (q.free_over_fen ? t(" · 满 ", " · free over ") + yuan(q.free_over_fen) + t(" 免配送费", "") : "")),
        usePoint);
    };
    const err = h("p", { class: "form-error hidden", id: "buy-error", role: "alert" });
    const name = h("input", { id: "addr-name", placeholder: t("收货人", "Recipient"), maxlength: "30", value: st.name || "" });
    const phone = h("input", { id: "addr-phone", inputmode: "tel", placeholder: t("手机号（默认登录手机号）", "Phone (defaults to your login)"), maxlength: "14", value: st.phone || "" });
    const addr = h("input", { id: "addr-line", placeholder: t("详细地址", "Full address"), maxlength: "200", value: st.addr || "" });
    for (const [el, k] of [[name, "name"], [phone, "phone"], [addr, "addr"]]) el.addEventListener("input", () => { st[k] = el.value; });
    const confirm = h("button", { class: "btn btn-buy", type: "button", id: "confirm-order", disabled: sku.available < st.qty || (st.mode === "pickup" && !st.store) || !!(dq && dq.err), onclick: () => submitOrder(p, st, confirm, err) },
      sku.available <= 0 ? t("已售罄", "Sold out") : t("提交订单", "Place order"));
    showSheet(
      h("div", { class: "sheet-head" }, h("img", { src: photo(p), alt: "" }),
        h("div", {}, h("b", {}, SL.pname(p)), h("div", { class: "price", id: "sheet-price" }, yuan(unitFen), unitFen < sku.price_fen ? [" ", h("span", { class: "tag member-tag" }, t("会员价", "Member price")), h("del", {}, yuan(sku.price_fen))] : null), h("div", { class: "stock" }, t("可售 ", "Available ") + sku.available)), closeBtn()),
      h("h3", {}, t("规格", "Option")),
      h("div", { class: "chips" }, p.skus.filter((k) => k.active).map((k) => h("button", { class: "chip" + (k.id === st.sku ? " on" : ""), type: "button", disabled: k.available <= 0, onclick: () => { st.sku = k.id; st.qty = 1; renderBuy(); } }, SL.kname(k) + " · " + yuan(k.price_fen)))),
      h("h3", {}, t("数量", "Quantity")),
      h("div", { class: "qty" }, h("button", { type: "button", "aria-label": "-", onclick: () => { if (st.qty > 1) { st.qty--; renderBuy(); } } }, "−"), h("span", { id: "qty" }, st.qty),
        h("button", { type: "button", "aria-label": "+", id: "qty-plus", onclick: () => { if (st.qty < Math.min(99, sku.available)) { st.qty++; renderBuy(); } } }, "+")),
      h("h3", {}, t("取货方式", "How to get it")),
      h("div", { class: "chips" },
        h("button", { class: "chip" + (st.mode === "pickup" ? " on" : ""), type: "button", id: "mode-pickup", onclick: () => { st.mode = "pickup"; renderBuy(); } }, t("到店自提", "Pick up in store")),
        h("button", { class: "chip" + (st.mode === "delivery" ? " on" : ""), type: "button", id: "mode-delivery", onclick: () => { st.mode = "delivery"; renderBuy(); } }, t("配送到家", "Delivery"))),
      st.mode === "pickup" && !here ? h("button", { class: "btn btn-sm btn-ghost locate", type: "button", id: "locate", onclick: locate }, pinIcon(), t("按离我最近排序", "Nearest to me first")) : null,
      st.mode === "pickup"
        ? h("ul", { class: "store-list", id: "store-list" }, stores.map((s) => h("li", {
            class: (s.id === st.store ? "on" : "") + (s.available < st.qty ? " off" : ""), dataset: { store: s.id },
            onclick: () => { if (s.available >= st.qty) { st.store = s.id; renderBuy(); } } },
            h("div", {}, h("b", {}, SL.lang === "en" && s.name_en ? s.name_en : s.name), h("div", { class: "muted small" }, s.address), h("div", { class: "small " + (s.available > 0 ? "muted" : "soldout"), dataset: { hold: s.available <= 0 && s.held > 0 ? "1" : "" } },
              s.available > 0 ? t("库存 ", "In stock: ") + s.available : s.held > 0 ? t("暂停销售 — 本店冷链复核中", "On hold here — cold chain under review") : t("本店无货", "Out of stock here"))),
            h("span", { class: "dist" }, s.distance_m ? (s.distance_m >= 1000 ? (s.distance_m / 1000).toFixed(1) + " km" : Math.round(s.distance_m) + " m") : ""))))
        : h("div", {}, name, phone, addr, deliveryInfo()),
      slots.length ? h("h3", {}, st.mode === "pickup" ? t("取货时段", "Pickup slot") : t("配送时段", "Delivery slot")) : null,
      slots.length ? h("div", { class: "chips slot-chips", id: "slot-list" }, (st.allSlots ? slots : slots.slice(0, Math.max(8, slots.findIndex((x) => x.start === st.slot) + 1))).map((x) => h("button", {
        class: "chip" + (x.start === st.slot ? " on" : ""), type: "button", disabled: x.left <= 0, dataset: { start: x.start },
        onclick: () => { st.slot = x.start; renderBuy(); } }, x.label, h("small", { class: "muted" }, x.left > 0 ? t(" 余" + x.left, " " + x.left + " left") : t(" 已满", " full")))),
        !st.allSlots && slots.length > 8 ? h("button", { class: "chip", type: "button", id: "more-slots", onclick: () => { st.allSlots = true; renderBuy(); } }, t("更多时段", "More slots")) : null) : null,
      h("div", { class: "sheet-coupon hidden", id: "sheet-coupon" }),
      err,
      h("div", { class: "sheet-total" }, h("div", {}, t("合计 ", "Total "), h("b", { class: "price", id: "sheet-total" }, yuan(total))), confirm)
    );
    // The wallet's best coupon for this cart (the order applies the same one).
    if (SL.coupons && sku.available >= st.qty) SL.coupons.quote({ items: [{ sku_id: sku.id, quantity: st.qty }], fulfilment: st.mode, store_id: st.mode === "pickup" ? st.store : 0, room_id: roomID }, goods, fee);
  }

  // The flash-sale sheet: the sale's price, store and per-buyer limit.
  async function renderFlashBuy(p, sku, st) {
    const sale = st.sale;
    if (!storeCache.all) { try { storeCache.all = (await api("GET", "/api/v1/rooms/" + slug + "/stores")).stores; } catch (e) { storeCache.all = []; } }
    const store = (storeCache.all || []).find((s) => s.id === sale.store_id);
    const err = h("p", { class: "form-error hidden", id: "buy-error", role: "alert" });
    const soldOut = sale.remaining <= 0;
    const confirm = h("button", { class: "btn btn-buy", type: "button", id: "confirm-order", disabled: soldOut || sale.paused, onclick: () => submitOrder(p, st, confirm, err) }, sale.paused ? t("暂停销售", "On hold") : soldOut ? t("已抢光", "Sold out") : t("立即抢购", "Buy now"));
    showSheet(
      h("div", { class: "sheet-head" }, h("img", { src: photo(p), alt: "" }),
        h("div", {}, h("span", { class: "tag flash-tag" }, "⚡ " + t("秒杀价", "Flash price")), h("b", {}, SL.pname(p) + " · " + SL.kname(sku)), h("div", { class: "price" }, yuan(sale.price_fen), h("del", {}, yuan(sku.price_fen))),
          h("div", { class: "stock low", id: "sheet-flash-left" }, soldOut ? t("已抢光", "Sold out") : t("剩余 ", "Left: ") + sale.remaining)), closeBtn()),
      h("h3", {}, t("数量（每人限购 ", "Quantity (limit ") + sale.per_user_limit + t(" 件）", ")")),
      h("div", { class: "qty" }, h("button", { type: "button", "aria-label": "-", onclick: () => { if (st.qty > 1) { st.qty--; renderBuy(); } } }, "−"), h("span", { id: "qty" }, st.qty),
        h("button", { type: "button", "aria-label": "+", id: "qty-plus", onclick: () => { if (st.qty < sale.per_user_limit) { st.qty++; renderBuy(); } } }, "+")),
      h("h3", {}, t("自提门店", "Pickup store")),
      h("ul", { class: "store-list" }, h("li", { class: "on" }, h("div", {}, h("b", {}, store ? (SL.lang === "en" && store.name_en ? store.name_en : store.name) : "#" + sale.store_id), h("div", { class: "muted small" }, store ? store.address : "")))),
      err,
      h("div", { class: "sheet-total" }, h("div", {}, t("合计 ", "Total "), h("b", { class: "price", id: "sheet-total" }, yuan(sale.price_fen * st.qty))), confirm));
  }

  async function submitOrder(p, st, btn, err) {
    btn.disabled = true; err.classList.add("hidden");
    track("checkout", p.id);
    const body = { items: [{ sku_id: st.sku, quantity: st.qty }], fulfilment: st.mode, room_id: roomID, guide_code: guide || "" };
    if (st.sale) body.flash_sale_id = st.sale.id;
    if (st.mode === "pickup") { body.store_id = st.store; if (st.slot && !st.sale) body.pickup_slot = st.slot; }
    else {
      body.contact_name = st.name || ""; body.contact_phone = st.phone || ""; body.address = st.addr || "";
      if (st.point) { body.lat = st.point.lat; body.lng = st.point.lng; }
      if (st.slot) body.delivery_slot = st.slot;
    }
    try {
      const o = await api("POST", "/api/v1/orders", body, { "Idempotency-Key": idemKey });
      slotCache.store = 0; deliveryCache.key = ""; // places changed
      if (o.slot_moved) toast(t("你选的时段刚刚约满，已改约 ", "That slot just filled up; you're booked for ") + o.pickup_slot_label, 5000);
      try { await SL.checkout(o.id); } catch (e) { location.href = "/orders/" + o.id; } // the order page offers paying again
    } catch (e) {
      btn.disabled = false;
      if (e.status === 401) { loggedIn = false; openLogin(() => submitOrder(p, st, btn, err)); return; }
      const msgs = {
        out_of_stock: t("手慢了，库存不足，请减少数量或换个门店", "Not enough stock left — try fewer or another store"),
        sold_out: t("手慢了，已经抢光啦", "Too late — it's sold out"),
        limit_reached: t("你已达到每人限购数量", "You reached the per-buyer limit"),
        busy_retry: t("排队的人太多，请稍后再点一次", "Lots of buyers right now — tap again in a moment"),
        sale_not_running: t("秒杀已结束", "The flash sale has ended"),
        sale_paused: t("暂停销售：该批次冷链复核中，复核通过后恢复", "On hold: the lot is under cold-chain review; the sale resumes once it is cleared"),
        lot_on_hold: t("暂停销售：该批次冷链复核中", "On hold: the lot is under cold-chain review"),
        coupon_not_applicable: t("优惠券不适用于本单", "The coupon does not apply to this order"),
        pickup_slots_full: t("这家门店近两天的自提时段都约满了，请换一家门店", "Every pickup slot here is full for two days; choose another store"),
        beyond_delivery_radius: t("该位置超出门店配送范围", "That place is beyond the stores' delivery range"),
        delivery_point_required: t("请先确定收货位置", "Set the address's location first"),
      };
      err.textContent = msgs[e.code] || e.message;
      err.classList.remove("hidden");
      if (e.code === "sold_out" && st.sale) { st.sale.remaining = 0; if (flash && flash.id === st.sale.id) { flash.remaining = 0; renderFlash(); } btn.disabled = true; btn.textContent = t("已抢光", "Sold out"); }
      if (e.code === "sale_paused" && st.sale) { st.sale.paused = true; if (flash && flash.id === st.sale.id) { flash.paused = true; renderFlash(); } btn.disabled = true; btn.textContent = t("暂停销售", "On hold"); }
      if (e.code === "busy_retry") { btn.textContent = t("重试", "Retry"); }
      if (e.code === "out_of_stock") { storeCache.sku = 0; }
      if (e.code === "pickup_slots_full" || e.code === "pickup_slot_closed") { slotCache.store = 0; renderBuy(); }
    }
  }

  // After the host ends the live, the open page turns into the replay as
  // soon as the recording is listed (no reload).
  let replayWait = 0;
  async function ended() {
    if (root.classList.contains("replay")) return;
    stopLive();
    note(t("直播已结束", "This live has ended"));
    clearTimeout(replayWait);
    for (let i = 0; i < 20 && !root.classList.contains("replay"); i++) {
      try {
        const st = await api("GET", "/api/v1/rooms/" + slug);
        if (st.playback && st.playback.replay) { state.playback = st.playback; state.clips = st.clips || state.clips; state.clip_pages = st.clip_pages || state.clip_pages; renderClipStrip(); startReplay(st.playback.replay); renderPinned(); return; }
      } catch (e) { /* try again */ }
      await new Promise((ok) => { replayWait = setTimeout(ok, 1500); });
    }
  }

  let hlsReplay = null;
  async function startReplay(url) {
    const v = $("video");
    v.controls = true; v.muted = false;
    root.classList.add("replay");
    $("unmute").classList.add("hidden");
    v.classList.remove("hidden");
    note("");
    $("poster-note").textContent = t("直播回放", "Replay");
    playing = true;
    if (v.canPlayType("application/vnd.apple.mpegurl")) { v.src = url; return; }
    const H = await withHls().catch(() => null);
    if (H) { hlsReplay = new H(); hlsReplay.loadSource(url); hlsReplay.attachMedia(v); } else v.src = url;
  }
  // jumpTo seeks the replay to where the host explained a product.
  function jumpTo(productID) {
    const clip = (state.clips || []).filter((c) => c.product_id === productID).pop();
    if (!clip) return;
    const v = $("video");
    v.currentTime = clip.offset_s;
    v.play().catch(() => {});
    closeSheet();
  }
  SL.jumpTo = jumpTo;

  // Each product's explanation as a clip of its own (cut after the live).
  function clipPageOf(productID) { return (state.clip_pages || []).filter((c) => c.product_id === productID).pop(); }
  function renderClipStrip() {
    const strip = $("clip-strip"), list = state.clip_pages || [];
    if (!strip) return;
    strip.replaceChildren(h("span", { class: "clip-strip-label" }, t("讲解短视频", "Clips")), ...list.map((c) => h("a", { href: c.url, dataset: { clipPage: c.id } }, "▶ " + c.title)));
    strip.classList.toggle("hidden", list.length === 0);
  }

  renderPinned();
  renderFlash();
  renderClipStrip();
  startVideo();
  // ?buy={product} (from a clip's page) opens that product's buy sheet: the
  // same login, store, slot and payment path as a tap in the room.
  const wantBuy = Number(new URLSearchParams(location.search).get("buy"));
  if (wantBuy && products.has(wantBuy)) openBuy(wantBuy, saleFor(wantBuy));
  fetch("/api/v1/rooms/" + slug + "/comments").then((r) => r.json()).then((d) => { for (const c of d.comments || []) addComment({ id: String(c.id), name: c.author_name, text: c.body, host: c.author_kind === "staff" }); }).catch(() => {});
  if (guide) system(t("你通过导购的分享进入直播间", "You joined through a store guide's link"));
})();
