// Host studio: run the room — pin cards, change prices, watch comments and orders live.
"use strict";
(function () {
  const { h, t, api, yuan, toast } = SL;
  const $ = (id) => document.getElementById(id);
  const merchantID = Number($("studio").dataset.merchant);
  // A store's host runs that store's studio: its orders come on store:<id>.
  const storeID = Number($("studio").dataset.store) || 0;
  // A moderator (no room.host) sees the room, its comments and the
  // moderation panel; the selling parts are hidden and not loaded.
  const canHost = $("studio").dataset.host === "1";
  let room = null, conn = null, orders = new Map();
  const products = new Map();

  async function loadRooms() {
    const r = await api("GET", "/api/v1/rooms");
    const sel = $("room-select");
    sel.replaceChildren(...r.rooms.map((x) => h("option", { value: x.slug }, SL.rtitle(x) + " (" + x.slug + ")")));
    const want = new URLSearchParams(location.search).get("room") || (r.rooms.find((x) => x.status === "live") || r.rooms[0] || {}).slug;
    if (want) { sel.value = want; await openRoom(want); }
    sel.addEventListener("change", () => { history.replaceState(null, "", "?room=" + sel.value); openRoom(sel.value); });
  }

  async function openRoom(slug) {
    const st = await api("GET", "/api/v1/rooms/" + slug);
    room = st.room;
    for (const p of st.products) products.set(p.id, p);
    if (st.pinned) products.set(st.pinned.id, st.pinned);
    $("studio-title").textContent = SL.rtitle(room);
    $("open-room").href = "/live/" + room.slug;
    $("room-qr").src = "/qr/room/" + room.slug;
    $("room-qr-save").href = "/qr/room/" + room.slug;
    $("room-qr-save").setAttribute("download", room.slug + "-qr.png");
    $("room-poster").href = "/poster/" + room.slug;
    const embedURL = location.origin + "/embed/rooms/" + room.slug;
    $("embed-snippet").value = '<iframe src="' + embedURL + '" width="360" height="136" title="' + SL.rtitle(room).replace(/[&"<>]/g, (c) => ({ "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;" })[c]) + '" style="border:0;max-width:100%" loading="lazy"></iframe>';
    $("embed-preview").href = "/embed/rooms/" + room.slug;
    setStatus(room.status);
    $("st-viewers").textContent = st.viewers; $("st-likes").textContent = st.likes;
    $("ingest-body").replaceChildren(
      h("p", {}, t("服务器：", "Server: "), h("code", {}, st.ingest_url || t("未启用视频", "video is off"))),
      h("p", {}, t("串流密钥：", "Stream key: "), h("code", { id: "stream-key" }, st.stream_key || "—"), " ",
        h("button", { class: "btn btn-sm", type: "button", onclick: () => navigator.clipboard && navigator.clipboard.writeText(st.stream_key).then(() => toast(t("已复制", "Copied"))) }, t("复制", "Copy")), " ",
        h("button", { class: "btn btn-sm btn-danger", type: "button", onclick: rotateKey }, t("重置密钥", "Rotate key"))));
    $("cf-panel").classList.add("hidden");
    if (canHost) {
      renderLineup();
      renderFlashForm();
      loadScript();
      loadSales().catch(() => {});
      if (SL.studioPolls) SL.studioPolls.load(slug);
      if (SL.studioCocreate) SL.studioCocreate.load(slug);
      if (SL.studioCoupons) SL.studioCoupons.load(slug);
    }
    // The comments are read when the room's subscription starts (its
    // snapshot, below): comments are not replayed, so a list read before it
    // would miss those posted until the socket is up.
    $("st-comments").replaceChildren();
    orders = new Map();
    $("st-order-feed").replaceChildren();
    if (canHost) {
      const ol = await api("GET", "/api/v1/orders?room_id=" + room.id);
      for (const o of ol.orders.reverse()) addOrder(o, false);
    }
    loadModeration().catch((e) => toast(e.message));
    if (conn) conn.close();
    const topics = ["room:" + room.id, "mod:" + merchantID];
    if (canHost) topics.push(storeID ? "store:" + storeID : "staff:" + merchantID);
    conn = SL.connect(topics, {
      event(topic, type, d) {
        if (type === "product.updated" || type === "card.pinned") { products.set(d.product.id, d.product); if (type === "card.pinned") room.pinned_product_id = d.product.id; renderLineup(); renderFlashForm(); }
        if (type === "card.unpinned") { room.pinned_product_id = 0; renderLineup(); }
        if (type === "room.status") setStatus(d.status);
        if (type === "flash.started" || type === "flash.scheduled") { sales.set(d.sale.id, d.sale); renderSales(); }
        if (type === "flash.stock") { const f = sales.get(d.sale_id); if (f) { f.remaining = d.remaining; renderSales(); } }
        if (type === "flash.ended") { const f = sales.get(d.sale_id); if (f) { f.status = "ended"; renderSales(); } }
        if (type.startsWith("poll.") && SL.studioPolls) SL.studioPolls.update(d.poll);
        if (type.startsWith("cocreate.") && SL.studioCocreate) SL.studioCocreate.update(d.draft);
        if (type === "comment.deleted") { const li = $("st-comments").querySelector('[data-id="' + CSS.escape(String(d.id)) + '"]'); if (li) li.remove(); }
        if ((type === "order.created" || type === "order.updated") && d.room_id === room.id) addOrder(d, type === "order.created");
        if (type === "comment.flagged" && d.room === room.slug) flagComment(d);
        if (type === "compliance.blocked" && d.room === room.slug) showBlocked(d.review);
        if (type === "moderation.report") { reports.set(d.id, d); renderReports(); }
        if (type === "moderation.decided") { for (const [id, r] of reports) if (r.comment_id === d.comment_id) reports.delete(id); renderReports(); }
        if (type === "moderation.restricted") { mutes.set(d.id, d); renderMutes(); }
        if (type === "moderation.lifted") { mutes.delete(d.id); renderMutes(); }
      },
      batch(topic, b) {
        if (!topic.startsWith("room:")) return;
        for (const c of b.comments || []) addComment(c);
        if (b.viewers !== undefined) $("st-viewers").textContent = b.viewers;
        if (b.likes !== undefined) $("st-likes").textContent = b.likes;
        $("st-dropped").textContent = b.dropped ? t("高峰期已抽样，略过 " + b.dropped + " 条", b.dropped + " sampled out") : "";
      },
      snapshot(topic, s) {
        if (!topic.startsWith("room:")) return;
        if (s && s.viewers !== undefined) { $("st-viewers").textContent = s.viewers; $("st-likes").textContent = s.likes; }
        // Batches flow from here on, so this read misses nothing; a batch
        // that arrives before it ends is kept (addComment places by id and
        // skips those shown). A reconnect's snapshot reads again.
        loadRecentComments(slug).catch((e) => toast(e.message));
      },
    });
  }

  async function loadRecentComments(slug) {
    const recent = await api("GET", "/api/v1/rooms/" + slug + "/comments");
    if (!room || room.slug !== slug) return; // another room was opened meanwhile
    for (const c of recent.comments) addComment({ id: String(c.id), name: c.author_name, text: c.body, host: c.author_kind === "staff" });
  }

  // ---------- flash sales ----------
  let sales = new Map();
  function renderFlashForm() {
    const sel = $("flash-sku");
    const keep = sel.value;
    const opts = [];
    for (const id of room.product_ids || []) { const p = products.get(id); if (p) for (const k of p.skus) opts.push(h("option", { value: k.id, dataset: { price: k.price_fen } }, SL.pname(p) + " · " + k.name + " (" + yuan(k.price_fen) + ")")); }
    sel.replaceChildren(...opts);
    if (keep) sel.value = keep;
    if (!$("flash-price").value && sel.selectedOptions[0]) $("flash-price").value = (Number(sel.selectedOptions[0].dataset.price) / 200).toFixed(2);
    if (sel.value !== flashStoresFor) loadFlashStores().catch(() => {});
  }
  // The stores a sale can draw from, with what each can sell of the SKU;
  // the one with most stock is chosen and the quantity fits it.
  let flashStoresFor = "";
  async function loadFlashStores() {
    const sku = $("flash-sku").value;
    flashStoresFor = sku;
    if (!sku) return;
    const r = await api("GET", "/api/v1/rooms/" + room.slug + "/stores?sku=" + sku);
    const list = r.stores || [];
    const sel = $("flash-store"), keep = sel.value;
    sel.replaceChildren(...list.map((s) => h("option", { value: s.id, dataset: { available: s.available || 0 } },
      SL.sname(s) + t("（可售 ", " (") + (s.available || 0) + t(" 件）", " to sell)"))));
    const best = list.reduce((a, b) => ((b.available || 0) > (a ? a.available || 0 : -1) ? b : a), null);
    sel.value = list.some((s) => String(s.id) === keep) ? keep : best ? String(best.id) : "";
    fitQuantity();
  }
  function fitQuantity() {
    const o = $("flash-store").selectedOptions[0];
    if (!o) return;
    const left = Number(o.dataset.available), q = $("flash-qty");
    q.max = Math.max(1, left);
    if (Number(q.value) > left) q.value = Math.max(1, left);
  }
  $("flash-store").addEventListener("change", fitQuantity);
  function renderSales() {
    const list = [...sales.values()].sort((a, b) => b.id - a.id);
    $("flash-list").replaceChildren(...list.map((f) => h("li", { dataset: { sale: f.id } },
      h("b", {}, "⚡ " + (products.has(f.product_id) ? SL.pname(products.get(f.product_id)) : f.product_name) + " · " + SL.skuName(f)), " ", yuan(f.price_fen), " ",
      h("span", { class: "badge " + (f.status === "running" ? (f.remaining > 0 ? "red" : "") : "") }, f.status === "running" ? (f.remaining > 0 ? t("剩余 ", "Left ") + f.remaining + "/" + f.quantity : t("已抢光", "Sold out")) : f.status === "scheduled" ? t("未开始", "Scheduled") : t("已结束", "Ended")),
      f.status !== "ended" ? h("button", { class: "btn btn-sm btn-danger", type: "button", onclick: async () => { try { await api("POST", "/api/v1/flash-sales/" + f.id + "/end"); f.status = "ended"; renderSales(); } catch (e) { toast(e.message); } } }, t("结束", "End")) : null)));
  }
  async function loadSales() {
    const r = await api("GET", "/api/v1/rooms/" + room.slug + "/flash-sales");
    sales = new Map(r.flash_sales.map((f) => [f.id, f]));
    renderSales();
  }
  $("flash-sku").addEventListener("change", () => { const o = $("flash-sku").selectedOptions[0]; if (o) $("flash-price").value = (Number(o.dataset.price) / 200).toFixed(2); loadFlashStores().catch(() => {}); });
  $("flash-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { sku_id: Number($("flash-sku").value), store_id: Number($("flash-store").value) || 0, price_fen: Math.round(Number($("flash-price").value) * 100), quantity: Number($("flash-qty").value),
      per_user_limit: Number($("flash-limit").value), duration_s: Number($("flash-minutes").value) * 60 };
    try { const f = await api("POST", "/api/v1/rooms/" + room.slug + "/flash-sales", body); sales.set(f.id, f); renderSales(); toast(t("秒杀已开始", "Flash sale started")); loadFlashStores().catch(() => {}); }
    catch (e) { toast(e.message, 6000); }
  });

  function setStatus(s) {
    room.status = s;
    const el = $("studio-status");
    el.textContent = s === "live" ? "● " + t("直播中", "LIVE") : s === "ended" ? t("已结束", "Ended") : t("未开始", "Scheduled");
    el.classList.toggle("pill-live", s === "live");
    $("go-live").disabled = s === "live"; $("end-live").disabled = s !== "live";
  }

  function renderLineup() {
    const ids = [...new Set([...(room.product_ids || [])])];
    $("lineup").replaceChildren(...ids.map((id) => products.get(id)).filter(Boolean).map((p) => {
      const pinned = p.id === room.pinned_product_id;
      const left = p.skus.reduce((n, k) => n + k.available, 0);
      return h("li", { class: pinned ? "pinned-row" : "", dataset: { product: p.id } },
        h("img", { src: SL.photo(p), alt: "" }),
        h("div", { class: "grow" }, h("b", {}, SL.pname(p)), h("span", { class: "muted small" }, t("库存 ", "Stock ") + left + " · " + p.skus.map((k) => k.name + " " + yuan(k.price_fen)).join(" / "))),
        h("div", { class: "price-edits" }, p.skus.filter((k) => k.active).map((k) => h("label", { class: "price-edit-row" }, h("span", {}, k.name),
          h("input", { class: "price-edit", type: "number", min: "0", step: "0.01", value: (k.price_fen / 100).toFixed(2), dataset: { sku: k.id }, "aria-label": SL.pname(p) + " · " + k.name + " " + t("价格", "price"),
            onchange: (ev) => setPrice(k, ev.target) })))),
        h("button", { class: "btn btn-sm btn-ghost", type: "button", dataset: { trace: p.id }, title: t("向观众展示产地与冷链记录", "Show viewers the origin and cold-chain record"),
          onclick: async () => { try { await api("POST", "/api/v1/rooms/" + room.slug + "/trace-card", { product_id: p.id }); toast(t("已推送溯源卡片", "Trace card shown to viewers")); } catch (e) { toast(e.message); } } }, t("推溯源", "Trace")),
        pinned ? h("button", { class: "btn btn-sm", type: "button", onclick: unpin }, t("取消讲解", "Unpin"))
          : h("button", { class: "btn btn-primary btn-sm", type: "button", dataset: { pin: p.id }, onclick: () => pin(p.id) }, t("讲解此商品", "Pin")));
    }));
  }

  // setPrice changes one SKU's price live; every viewer sees it at once.
  async function setPrice(k, input) {
    const fen = Math.round(Number(input.value) * 100);
    if (input.value === "" || !Number.isFinite(fen)) return;
    const body = { price_fen: fen };
    if (fen === 0) {
      if (!confirm(t("确定以 0 元免费送出？所有观众可立即下单。", "Give it away for ¥0? Every viewer can order it at once."))) { input.value = (k.price_fen / 100).toFixed(2); return; }
      body.confirm_free = true;
    }
    await sendPrice(k, input, body);
  }
  // sendPrice stores the price; a cut under a struck-through price that the
  // last 7 days do not back is refused with the review (the price stays),
  // and an owner may send it again with a reason.
  async function sendPrice(k, input, body) {
    try { await api("POST", "/api/v1/skus/" + k.id + "/price", body); k.price_fen = body.price_fen; toast(t("价格已更新，观众实时可见", "Price updated for all viewers")); $("cf-panel").classList.add("hidden"); }
    catch (e) {
      if (e.code !== "compliance_blocked" || !e.problem || !e.problem.review) { toast(e.message); return; }
      input.value = (k.price_fen / 100).toFixed(2);
      showBlocked(e.problem.review, { title: t("划线价对比未通过，价格未改", "List-price check: price not changed"),
        hint: t("划线价须是新价格开始前 7 天内的最低成交价。请在管理后台调整划线价后再改价。", "A struck-through price must be the lowest price charged in the 7 days before the new price. Adjust the list price in Admin, then change the price."),
        button: t("店主强制改价", "Owner override"), retry: (override) => sendPrice(k, input, { ...body, override }) });
    }
  }

  async function pin(id) { try { await api("POST", "/api/v1/rooms/" + room.slug + "/pin", { product_id: id }); room.pinned_product_id = id; renderLineup(); } catch (e) { toast(e.message); } }
  async function unpin() { try { await api("DELETE", "/api/v1/rooms/" + room.slug + "/pin"); room.pinned_product_id = 0; renderLineup(); } catch (e) { toast(e.message); } }
  async function rotateKey() {
    if (!confirm(t("重置后旧密钥立即失效，确定吗？", "The old key stops working immediately. Rotate?"))) return;
    try { const st = await api("PATCH", "/api/v1/rooms/" + room.slug, { rotate_stream_key: true }); $("stream-key").textContent = st.stream_key; } catch (e) { toast(e.message); }
  }

  // addComment shows a comment in id order (the list read on the snapshot
  // may bring one older than a batch already shown) and once only.
  function addComment(c) {
    const list = $("st-comments");
    if (c.id && list.querySelector('[data-id="' + CSS.escape(String(c.id)) + '"]')) return;
    const li = h("li", { class: c.host ? "host" : "", dataset: { id: c.id || "" } }, h("span", { class: "who" }, c.name), h("span", {}, c.text),
      c.host ? null : h("span", { class: "acts" },
        h("button", { type: "button", title: t("删除", "Delete"), onclick: async () => { try { await api("DELETE", "/api/v1/rooms/" + room.slug + "/comments/" + c.id); li.remove(); } catch (e) { toast(e.message); } } }, t("删除", "Delete")),
        h("button", { type: "button", class: "mute-open", title: t("禁言", "Mute"), "aria-haspopup": "true", onclick: () => muteMenu(li, c) }, t("禁言", "Mute"))));
    let next = null; // the first shown comment with a higher id
    if (c.id) for (let el = list.lastElementChild; el && Number(el.dataset.id) > Number(c.id); el = el.previousElementSibling) next = el;
    list.insertBefore(li, next);
    if (c.id && flags.has(String(c.id))) flagComment(flags.get(String(c.id)));
    while (list.children.length > 200) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  function addOrder(o, fresh) {
    orders.set(o.id, o);
    const feed = $("st-order-feed");
    const old = feed.querySelector('[data-order="' + o.id + '"]');
    const li = h("li", { dataset: { order: o.id } },
      h("div", {}, h("b", {}, yuan(o.total_fen)), " · ", h("span", { class: "badge " + (o.status === "pending_payment" ? "amber" : o.status === "cancelled" || o.status === "expired" ? "" : "green") }, SL.bi(o.status_label))),
      h("div", { class: "muted" }, (o.lines || []).map((l) => SL.itemName(l) + "×" + l.quantity).join("，")),
      h("div", { class: "muted small" }, o.number + " · " + (o.contact_phone || "") + " · " + SL.fmtTime(o.created_at)));
    if (old) old.replaceWith(li); else feed.prepend(li);
    const live = [...orders.values()].filter((x) => x.status !== "cancelled" && x.status !== "expired");
    $("st-orders").textContent = live.length;
    $("st-gmv").textContent = yuan(live.filter((x) => x.status !== "pending_payment").reduce((n, x) => n + x.total_fen, 0));
    if (fresh) toast(t("新订单 ", "New order ") + yuan(o.total_fen));
  }

  // ---------- compliance: go-live review, script, flagged comments ----------
  const role = $("studio").dataset.role;
  async function goLive(override) {
    try {
      setStatus((await api("POST", "/api/v1/rooms/" + room.slug + "/status", override ? { status: "live", override } : { status: "live" })).status);
      $("cf-panel").classList.add("hidden");
    } catch (e) {
      if (e.code === "compliance_blocked" && e.problem && e.problem.review) showBlocked(e.problem.review);
      else toast(e.message);
    }
  }
  // showBlocked lists what stops the room going live; only an owner gets
  // the override form, and the reason is written to the audit log.
  // o (optional) names another refused action than going live: its title,
  // hint, override button and the retry that sends the override.
  function showBlocked(review, o) {
    o = o || { title: t("开播前合规审查未通过", "Compliance review: cannot go live"),
      hint: t("请修改以下文案（商品在管理后台修改，脚本在下方），再点“开始直播”。", "Fix these texts (products in Admin, the script below), then go live again."),
      button: t("店主强制开播", "Owner override"), retry: goLive };
    const panel = $("cf-panel");
    const reason = h("input", { id: "cf-reason", maxlength: "200", placeholder: t("强制理由（将记入操作日志）", "Reason to go ahead anyway (audited)") });
    panel.replaceChildren(
      h("div", { class: "panel-head" }, h("h3", {}, "⚠ " + o.title),
        h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => panel.classList.add("hidden") }, t("关闭", "Close"))),
      h("p", { class: "small muted" }, o.hint),
      SL.complianceView(review),
      role === "owner" ? h("form", { class: "row-form", id: "cf-override", onsubmit: (ev) => { ev.preventDefault(); if (reason.value.trim()) o.retry({ reason: reason.value.trim() }); } },
        reason, h("button", { class: "btn btn-danger btn-sm", type: "submit" }, o.button))
        : h("p", { class: "small muted" }, t("只有店主可以强制执行。", "Only an owner can override.")));
    panel.classList.remove("hidden");
    panel.scrollIntoView({ block: "nearest" });
  }
  async function loadScript() {
    $("script-review").replaceChildren(); $("script-status").textContent = "";
    try { const r = await api("GET", "/api/v1/rooms/" + room.slug + "/script"); $("script-text").value = r.script; showScriptReview(r); } catch (e) { $("script-text").value = ""; }
  }
  function showScriptReview(r) {
    const n = r.review.findings.length;
    $("script-status").textContent = !r.script ? "" : n ? t("发现 " + n + " 处问题", n + " finding(s)") : t("未发现问题", "No findings");
    $("script-review").replaceChildren(n ? SL.complianceFindings(r.script, r.review.findings) : "");
  }
  $("script-save").addEventListener("click", async () => {
    try { showScriptReview(await api("PUT", "/api/v1/rooms/" + room.slug + "/script", { script: $("script-text").value })); toast(t("脚本已保存", "Script saved")); }
    catch (e) { toast(e.message); }
  });
  const flags = new Map(); // comment id → flag; the flag can arrive before its comment's batch
  function flagComment(d) {
    flags.set(String(d.comment_id), d);
    if (flags.size > 500) flags.delete(flags.keys().next().value);
    const li = $("st-comments").querySelector('[data-id="' + CSS.escape(String(d.comment_id)) + '"]');
    if (!li || li.classList.contains("flagged")) return;
    li.classList.add("flagged");
    li.title = d.findings.map((f) => "「" + f.match + "」" + f.explanation).join("\n");
    li.querySelector(".who").after(h("span", { class: "cf-flag" }, "⚠ " + t("违规用语，请勿复述", "non-compliant, do not repeat")));
  }

  $("go-live").addEventListener("click", () => goLive(null));
  $("end-live").addEventListener("click", async () => {
    if (!confirm(t("确定结束直播吗？", "End this live?"))) return;
    try { setStatus((await api("POST", "/api/v1/rooms/" + room.slug + "/status", { status: "ended" })).status); } catch (e) { toast(e.message); }
  });
  $("host-comment").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("host-comment-input");
    if (!input.value.trim()) return;
    try { const c = await api("POST", "/api/v1/rooms/" + room.slug + "/comments", { text: input.value }); input.value = ""; $("cf-panel").classList.add("hidden"); addComment({ id: String(c.id), name: c.author_name, text: c.body, host: true }); }
    catch (e) {
      if (e.code === "comment_noncompliant" && e.problem && e.problem.findings) {
        const panel = $("cf-panel");
        panel.replaceChildren(h("h3", {}, "⚠ " + e.message), SL.complianceFindings(input.value, e.problem.findings));
        panel.classList.remove("hidden");
      } else toast(e.message);
    }
  });

  // ---------- moderation: mute menu, reports, mutes ----------
  // muteMenu offers how long to mute a comment's author, in this room or
  // (封禁) in every room of the shop; the comment is removed either way.
  function muteMenu(li, c) {
    const old = li.querySelector(".mute-menu");
    if (old) { old.remove(); return; }
    const mute = async (minutes, scope) => {
      try {
        const r = await api("POST", "/api/v1/rooms/" + room.slug + "/comments/" + c.id + "/mute", { minutes, scope });
        li.remove(); mutes.set(r.id, r); renderMutes();
        toast(scope === "merchant" ? t("已在全店直播间封禁 ", "Banned in every room: ") + c.name : t("已禁言 ", "Muted: ") + c.name);
      } catch (e) { toast(e.message); }
    };
    li.append(h("div", { class: "mute-menu", role: "menu" },
      h("button", { type: "button", role: "menuitem", dataset: { minutes: 10 }, onclick: () => mute(10, "room") }, t("10分钟", "10 min")),
      h("button", { type: "button", role: "menuitem", dataset: { minutes: 60 }, onclick: () => mute(60, "room") }, t("1小时", "1 hour")),
      h("button", { type: "button", role: "menuitem", dataset: { minutes: 1440 }, onclick: () => mute(1440, "room") }, t("24小时", "24 hours")),
      h("button", { type: "button", role: "menuitem", dataset: { minutes: 0 }, onclick: () => mute(0, "room") }, t("本场永久", "Until lifted")),
      h("button", { type: "button", role: "menuitem", class: "danger", dataset: { scope: "merchant" }, onclick: () => mute(0, "merchant") }, t("全店封禁", "Ban from shop"))));
  }
  const reports = new Map(), mutes = new Map();
  async function loadModeration() {
    const [rs, ms] = await Promise.all([api("GET", "/api/v1/moderation/reports?status=open"), api("GET", "/api/v1/moderation/restrictions")]);
    reports.clear(); for (const r of rs.reports) reports.set(r.id, r);
    mutes.clear(); for (const m of ms.restrictions) mutes.set(m.id, m);
    renderReports(); renderMutes();
  }
  function renderReports() {
    // one row per reported comment, however many viewers reported it
    const byComment = new Map();
    for (const r of [...reports.values()].sort((a, b) => b.id - a.id)) if (!byComment.has(r.comment_id)) byComment.set(r.comment_id, r);
    const rows = [...byComment.values()];
    $("mod-reports").replaceChildren(...(rows.length ? rows.map((r) => h("li", { dataset: { report: r.id } },
      h("div", {}, h("b", {}, r.author_name), "：", r.comment_body),
      h("div", { class: "muted small" }, SL.fmtTime(r.created_at) + " · " + reasonLabel(r.reason) + (r.reports > 1 ? " · " + r.reports + t(" 人举报", " reports") : "") + (r.room_slug ? " · " + r.room_slug : "")),
      h("div", { class: "mod-acts" },
        h("button", { class: "btn btn-sm btn-danger", type: "button", onclick: () => decide(r, "uphold") }, t("删除评论", "Remove")),
        h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => decide(r, "dismiss") }, t("驳回", "Dismiss")))))
      : [h("li", { class: "muted small" }, t("暂无举报", "No reports"))]));
    $("mod-counts").textContent = t("举报 ", "Reports ") + rows.length + " · " + t("禁言 ", "Muted ") + mutes.size;
  }
  async function decide(r, decision) {
    try { await api("POST", "/api/v1/moderation/reports/" + r.id, { decision }); for (const [id, x] of reports) if (x.comment_id === r.comment_id) reports.delete(id); renderReports(); }
    catch (e) { toast(e.message); }
  }
  function reasonLabel(r) {
    return { spam: t("垃圾广告", "Spam"), abuse: t("辱骂", "Abuse"), contact: t("留联系方式", "Contact details"), fraud: t("诈骗", "Fraud"), other: t("其他", "Other") }[r] || r;
  }
  function renderMutes() {
    const list = [...mutes.values()].sort((a, b) => b.id - a.id);
    $("mod-mutes").replaceChildren(...(list.length ? list.map((m) => h("li", { dataset: { restriction: m.id } },
      h("div", {}, h("b", {}, m.customer_name || "#" + m.customer_id), " ",
        h("span", { class: "badge " + (m.scope === "merchant" ? "red" : "amber") }, m.scope === "merchant" ? t("全店封禁", "Shop ban") : t("禁言", "Muted") + (m.room_slug ? " · " + m.room_slug : ""))),
      h("div", { class: "muted small" }, (m.until ? t("至 ", "until ") + SL.fmtTime(m.until) : t("直到解除", "until lifted")) + (m.by ? " · " + m.by : "") + (m.reason ? " · " + m.reason : "")),
      h("div", { class: "mod-acts" }, h("button", { class: "btn btn-sm", type: "button", onclick: () => unmute(m) }, t("解除禁言", "Unmute")))))
      : [h("li", { class: "muted small" }, t("无人被禁言", "Nobody is muted"))]));
    $("mod-counts").textContent = t("举报 ", "Reports ") + new Set([...reports.values()].map((r) => r.comment_id)).size + " · " + t("禁言 ", "Muted ") + mutes.size;
  }
  async function unmute(m) {
    try { await api("DELETE", "/api/v1/moderation/restrictions/" + m.id); mutes.delete(m.id); renderMutes(); toast(t("已解除禁言", "Unmuted")); }
    catch (e) { toast(e.message); }
  }

  loadRooms().catch((e) => toast(e.message));
  $("embed-copy").addEventListener("click", () => { const el = $("embed-snippet"); el.select(); (navigator.clipboard ? navigator.clipboard.writeText(el.value) : Promise.reject()).then(() => toast(t("嵌入代码已复制", "Embed code copied"))).catch(() => document.execCommand("copy")); });
})();
