// Viewer room: coupon cards the host pushes (tap 抢 to grab one; the count
// left moves live), the best coupon shown on the buy sheet, and the 福袋
// draw card — its commitment while open, the winners and seed after.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t, api, yuan } = SL;
  // The room's card column (coupon, 福袋, poll) starts under the title; the
  // pre-sale and trial chips sit above it, and when both show (one below
  // the other) the column starts below the lower one instead of under it.
  SL.placeRoomCards = function () {
    const col = document.getElementById("room-cards");
    if (!col || !col.offsetParent) return;
    const top0 = col.offsetParent.getBoundingClientRect().top;
    let top = 118;
    for (const id of ["presale-chip", "trial-chip"]) {
      const el = document.getElementById(id);
      if (el && !el.classList.contains("hidden")) top = Math.max(top, Math.ceil(el.getBoundingClientRect().bottom - top0 + 8));
    }
    col.style.top = top + "px";
    col.style.maxHeight = "calc(100% - " + top + "px - 250px)";
  };
  const cards = new Map(); // coupon id -> coupon
  let grabbed = {};
  try { grabbed = JSON.parse(sessionStorage.getItem("sl_grabbed") || "{}"); } catch (e) { /* private mode */ }
  const remember = (id) => { grabbed[id] = 1; try { sessionStorage.setItem("sl_grabbed", JSON.stringify(grabbed)); } catch (e) { /* private mode */ } };

  function offText(c) {
    switch (c.kind) {
      case "percent": return t((100 - c.percent_off) / 10 + "折", c.percent_off + "% off");
      case "threshold": return t("满" + c.min_spend_fen / 100 + "减" + c.amount_fen / 100, yuan(c.amount_fen) + " off " + yuan(c.min_spend_fen));
      default: return yuan(c.amount_fen);
    }
  }
  function kindText(c) {
    return ({ fixed: t("立减", "Money off"), threshold: t("满减", "Spend & save"), percent: t("折扣", "Discount"), newcomer: t("新人券", "First order"), room: t("直播间专享", "Live only") })[c.kind] || c.kind;
  }

  async function grab(c, btn) {
    if (!SL.loggedIn || !SL.loggedIn()) { SL.openLogin(() => grab(c, btn)); return; }
    btn.disabled = true;
    try {
      await api("POST", "/api/v1/coupons/" + c.id + "/grab");
      remember(c.id); SL.toast(t("抢到了！下单时自动使用", "Got it! It applies at checkout")); render();
    } catch (e) {
      if (e.status === 401) { SL.openLogin(() => grab(c, btn)); return; }
      if (e.code === "coupon_claim_limit") { remember(c.id); render(); }
      else if (e.code === "coupon_gone") { c.remaining = 0; render(); }
      else btn.disabled = false;
      SL.toast(e.message);
    }
  }

  function render() {
    const box = document.getElementById("coupon-card");
    if (!box) return;
    const list = [...cards.values()];
    if (!list.length) { box.classList.add("hidden"); box.replaceChildren(); return; }
    const c = list[list.length - 1];
    const gone = c.remaining <= 0, mine = !!grabbed[c.id];
    box.replaceChildren(
      h("div", { class: "coupon-off" }, h("b", {}, offText(c)), h("small", {}, kindText(c))),
      h("div", { class: "coupon-body" }, h("div", { class: "coupon-title" }, c.title),
        h("div", { class: "coupon-left", id: "coupon-left" }, gone ? t("已抢光", "All gone") : t("剩 ", "Left ") + c.remaining),
        h("button", { class: "btn btn-sm coupon-grab", type: "button", id: "coupon-grab", dataset: { coupon: c.id }, disabled: gone || mine, onclick: (ev) => grab(c, ev.currentTarget) },
          mine ? t("已领取", "Yours") : gone ? t("抢光了", "Gone") : t("抢", "Grab"))));
    box.classList.remove("hidden");
  }

  // The buy sheet: the wallet's best coupon for this cart and the total
  // after it (total: the goods; fee: a same-city delivery fee on top).
  async function quote(body, total, fee) {
    fee = fee || 0;
    const el = document.getElementById("sheet-coupon");
    if (!el || !SL.loggedIn || !SL.loggedIn()) return;
    try {
      const q = await api("POST", "/api/v1/coupons/quote", body);
      const now = document.getElementById("sheet-coupon");
      if (!now || now !== el) return; // the sheet moved on
      if (!q.best) { el.classList.add("hidden"); return; }
      el.replaceChildren(h("span", {}, t("优惠券 ", "Coupon "), h("b", {}, q.best.coupon.title)), h("span", { class: "saving", id: "sheet-saving" }, "-" + yuan(q.saved_fen)));
      el.classList.remove("hidden");
      const tot = document.getElementById("sheet-total");
      if (tot && q.subtotal_fen === total) tot.replaceChildren(yuan(q.total_fen + fee), " ", h("del", {}, yuan(q.subtotal_fen + fee)));
    } catch (e) { /* the sheet works without a quote */ }
  }

  // ---------- 福袋 ----------
  let draw = null, hideTimer = 0;
  const short = (hex) => (hex ? hex.slice(0, 12) + "…" : "");
  async function enter() {
    if (!SL.loggedIn || !SL.loggedIn()) { SL.openLogin(enter); return; }
    try { const r = await api("POST", "/api/v1/draws/" + draw.id + "/enter"); draw.entrants = r.draw.entrants; draw.mine = true; renderDraw(); SL.toast(t("已参与，开奖后公布", "You're in — winners at the close")); }
    catch (e) { if (e.code === "draw_entered") { draw.mine = true; renderDraw(); } SL.toast(e.message); }
  }
  function renderDraw() {
    const box = document.getElementById("draw-card");
    if (!box) return;
    clearTimeout(hideTimer);
    if (!draw) { box.classList.add("hidden"); box.replaceChildren(); return; }
    const open = draw.status === "open";
    const how = draw.entry === "comment" ? t("评论「" + draw.keyword + "」参与", "Comment “" + draw.keyword + "” to enter")
      : h("button", { class: "btn btn-sm btn-buy", type: "button", id: "draw-enter", disabled: !!draw.mine, onclick: enter }, draw.mine ? t("已参与", "Entered") : draw.entry === "like" ? t("点赞参与", "Like to enter") : t("关注参与", "Follow to enter"));
    const closes = new Date(draw.closes_at);
    box.replaceChildren(
      h("div", { class: "draw-head" }, h("b", { class: "draw-badge" }, t("福袋", "Lucky bag")), h("span", { class: "muted small", id: "draw-entrants" }, draw.entrants + t(" 人参与", " entered")),
        h("button", { class: "poll-close", type: "button", "aria-label": t("收起", "Hide"), onclick: () => box.classList.add("hidden") }, "×")),
      h("div", { class: "draw-title" }, draw.title + " · " + draw.winners + t(" 人中奖", " winners")),
      open ? h("div", { class: "draw-how" }, how, h("span", { class: "muted small" }, t(" 截止 ", " closes ") + closes.toLocaleTimeString(SL.lang === "en" ? "en" : "zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" }))) : "",
      open ? h("div", { class: "draw-proof", id: "draw-commitment", title: draw.commitment }, t("开奖承诺 SHA-256：", "Commitment SHA-256: "), h("code", {}, short(draw.commitment)))
        : h("div", { class: "draw-result" },
          h("div", { class: "draw-winners", id: "draw-winners" }, (draw.winnersList || []).length ? t("中奖：", "Winners: ") + draw.winnersList.map((w) => w.name).join("、") : t("无人参与", "No entries")),
          h("div", { class: "draw-proof", id: "draw-seed", title: draw.seed }, t("种子：", "Seed: "), h("code", {}, short(draw.seed)), " ",
            h("a", { href: "/api/v1/draws/" + draw.id, target: "_blank", rel: "noopener" }, t("验证", "Verify")))));
    box.classList.remove("hidden");
    if (!open) hideTimer = setTimeout(() => box.classList.add("hidden"), 120000);
  }
  function setDraws(list) {
    const last = (list || [])[0] || null;
    if (!last) { draw = null; renderDraw(); return; }
    if (!draw || draw.id !== last.id || last.status !== draw.status) draw = Object.assign({}, last);
    if (draw.status === "drawn" && !draw.winnersList) {
      api("GET", "/api/v1/draws/" + draw.id).then((r) => { if (draw && draw.id === r.draw.id) { draw.winnersList = r.winners; renderDraw(); } }).catch(() => {});
    }
    renderDraw();
  }

  SL.coupons = {
    update(list, draws) { cards.clear(); for (const c of list || []) cards.set(c.id, c); render(); setDraws(draws); },
    event(type, d) {
      switch (type) {
        case "coupon.pushed": cards.set(d.coupon.id, d.coupon); render(); break;
        case "coupon.stock": { const c = cards.get(d.coupon_id); if (c) { c.remaining = d.remaining; render(); } break; }
        case "coupon.ended": cards.delete(d.coupon_id); render(); break;
        case "draw.opened": draw = Object.assign({}, d.draw); renderDraw(); break;
        case "draw.entries": if (draw && draw.id === d.draw_id) { draw.entrants = d.entrants; const el = document.getElementById("draw-entrants"); if (el) el.textContent = d.entrants + t(" 人参与", " entered"); } break;
        case "draw.drawn": draw = Object.assign({}, d.draw, { winnersList: d.winners }); renderDraw(); break;
      }
    },
    quote,
  };
  try { const st = JSON.parse(document.getElementById("room-state").textContent); SL.coupons.update(st.coupons, st.draws); } catch (e) { /* no state */ }
})();
