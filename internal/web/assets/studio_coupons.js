// Studio: make a coupon for this room and push its card (viewers grab it);
// open a 福袋 draw (its commitment is public at once) and draw it. A draw's
// prize is a coupon of this room or a zero-price order of one unit of a
// SKU, picked up at a store that has it (the winners' orders are paid at
// once and reserve first-expiry-first).
"use strict";
(function () {
  const SL = window.SL;
  const { h, t, api, toast } = SL;
  let slug = "", coupons = [], draws = [], skus = [];
  const atStore = Number((document.getElementById("studio") || {}).dataset?.store) || 0; // 0: every store

  const fen = (v) => Math.round(Number(v || 0) * 100);
  function renderCoupons() {
    const box = document.getElementById("coupon-panel");
    if (!box) return;
    const kind = h("select", { id: "coupon-kind" },
      [["room", t("直播间专享", "Live room only")], ["fixed", t("立减", "Money off")], ["threshold", t("满减", "Spend & save")], ["percent", t("折扣", "Percent off")], ["newcomer", t("新人券", "First order")]]
        .map(([v, l]) => h("option", { value: v }, l)));
    const title = h("input", { id: "coupon-title", maxlength: "30", value: t("直播间立减5元", "¥5 off live"), required: true });
    const amount = h("input", { id: "coupon-amount", type: "number", min: "0", step: "0.01", value: "5" });
    const min = h("input", { id: "coupon-min", type: "number", min: "0", step: "0.01", value: "0" });
    const pct = h("input", { id: "coupon-percent", type: "number", min: "0", max: "90", value: "0" });
    const budget = h("input", { id: "coupon-budget", type: "number", min: "1", value: "100" });
    const limit = h("input", { id: "coupon-limit", type: "number", min: "1", max: "10", value: "1" });
    const lab = (zh, en, el) => h("label", {}, t(zh, en), el);
    // A refused title shows its review under the form, as in Admin 优惠券
    // (SL.couponReview); the form keeps what was typed.
    const review = SL.couponReview(document.getElementById("studio").dataset.role, title, (override) => create(override));
    async function create(override) {
      const k = kind.value;
      const body = { kind: k, title: title.value, room: slug, budget_count: Number(budget.value), per_user_limit: Number(limit.value), min_spend_fen: fen(min.value) };
      if (k === "percent") { body.percent_off = Number(pct.value); body.max_off_fen = fen(amount.value); } else body.amount_fen = fen(amount.value);
      if (override) body.override = override;
      try { const c = await api("POST", "/api/v1/coupons", body); coupons.unshift(c); renderCoupons(); renderDraws(); toast(t("已创建，点「推送」发到直播间", "Created — press Push to send it to the room")); }
      catch (e) {
        if (e.code === "compliance_blocked" && e.problem && e.problem.review) review.show(e.problem.review);
        else toast(e.message);
      }
    }
    box.replaceChildren(
      h("form", { class: "coupon-form", id: "coupon-form", onsubmit: (ev) => { ev.preventDefault(); create(); } }, lab("券种", "Kind", kind), lab("名称", "Title", title), lab("金额/最高优惠（元）", "Amount / max off (¥)", amount), lab("门槛（元）", "Spend at least (¥)", min),
        lab("折扣 %", "% off", pct), lab("发放张数", "Coupons", budget), lab("每人限领", "Per person", limit),
        h("button", { class: "btn btn-primary btn-sm", type: "submit", id: "coupon-create" }, t("创建优惠券", "Create coupon"))),
      review.el,
      h("ul", { class: "studio-coupons", id: "coupon-list" }, coupons.slice(0, 8).map((c) => h("li", { dataset: { coupon: c.id } },
        h("span", {}, h("b", {}, c.title), " ", h("span", { class: "muted small" }, SL.bi(c.kind_label) + " · " + t("已领 ", "grabbed ") + c.issued + "/" + (c.issued + c.remaining))),
        c.status === "draft" ? h("button", { class: "btn btn-sm btn-buy", type: "button", id: "coupon-push-" + c.id, onclick: () => act(c, "push") }, t("推送", "Push"))
          : c.status === "live" ? h("button", { class: "btn btn-sm btn-danger", type: "button", onclick: () => act(c, "end") }, t("停止领取", "Stop")) : h("span", { class: "muted small" }, t("已结束", "Closed"))))));
  }
  async function act(c, what) {
    try { const got = await api("POST", "/api/v1/coupons/" + c.id + "/" + what); Object.assign(c, got); renderCoupons(); toast(what === "push" ? t("券卡已推送到直播间", "Coupon card pushed to the room") : t("已停止领取", "Grabbing stopped")); }
    catch (e) { toast(e.message); }
  }

  function renderDraws() {
    const box = document.getElementById("draw-panel");
    if (!box) return;
    const open = draws.find((d) => d.status === "open");
    if (open) {
      box.replaceChildren(h("p", {}, h("b", {}, open.title), " ", h("span", { class: "muted small", id: "studio-draw-entrants" }, open.entrants + t(" 人参与", " entered"))),
        h("p", { class: "muted small" }, t("承诺值 ", "Commitment ") + open.commitment),
        h("button", { class: "btn btn-sm btn-danger", type: "button", id: "draw-now", onclick: async () => {
          try { const r = await api("POST", "/api/v1/draws/" + open.id + "/draw"); Object.assign(open, r.draw); renderDraws(); toast(t("已开奖", "Drawn")); } catch (e) { toast(e.message); }
        } }, t("立即开奖", "Draw now")));
      return;
    }
    const title = h("input", { id: "draw-title", maxlength: "30", value: t("草莓福袋", "Strawberry lucky bag") });
    const entry = h("select", { id: "draw-entry" }, [["comment", t("评论口令", "Comment keyword")], ["like", t("点赞", "Like")], ["follow", t("关注", "Follow")]].map(([v, l]) => h("option", { value: v }, l)));
    const keyword = h("input", { id: "draw-keyword", maxlength: "20", value: t("想要福袋", "lucky bag") });
    const winners = h("input", { id: "draw-winners", type: "number", min: "1", max: "1000", value: "3" });
    const lab = (zh, en, el) => h("label", {}, t(zh, en), el);
    const prizeKind = h("select", { id: "draw-prize-kind" }, [["coupon", t("优惠券", "A coupon")], ["free_sku", t("0元商品（到店自提）", "A free item (pickup)")]].map(([v, l]) => h("option", { value: v }, l)));
    const prize = h("select", { id: "draw-prize" }, coupons.map((c) => h("option", { value: c.id }, c.title)));
    const sku = h("select", { id: "draw-prize-sku" }, skus.map((k) => h("option", { value: k.id }, k.label)));
    const store = h("select", { id: "draw-prize-store" });
    const loadStores = async () => {
      store.replaceChildren();
      if (!sku.value) return;
      try {
        const r = await api("GET", "/api/v1/rooms/" + slug + "/stores?sku=" + sku.value);
        // A host bound to one store gives away only that store's stock (the
        // server refuses any other store): offer them their store alone.
        const list = (r.stores || []).filter((x) => (x.available || 0) > 0 && (!atStore || x.id === atStore));
        store.replaceChildren(...list.map((x) => h("option", { value: x.id }, (SL.sname ? SL.sname(x) : x.name) + t("（可售 ", " (") + x.available + t(" 件）", " in stock)"))));
      } catch (e) { toast(e.message); }
    };
    sku.addEventListener("change", loadStores);
    const couponLabel = lab("奖品券", "Prize coupon", prize), skuLabel = lab("奖品商品", "Prize item", sku), storeLabel = lab("自提门店", "Pickup store", store);
    const showPrize = () => {
      const free = prizeKind.value === "free_sku";
      couponLabel.classList.toggle("hidden", free); skuLabel.classList.toggle("hidden", !free); storeLabel.classList.toggle("hidden", !free);
      if (free && !store.options.length) loadStores();
    };
    prizeKind.addEventListener("change", showPrize);
    const mins = h("input", { id: "draw-minutes", type: "number", min: "1", max: "1440", value: "5" });
    const last = draws.find((d) => d.status === "drawn");
    box.replaceChildren(last ? h("p", { class: "muted small" }, t("上次：", "Last: "), last.title + " — " + t("种子 ", "seed ") + (last.seed || "").slice(0, 16) + "…") : "",
      h("form", { class: "coupon-form", id: "draw-form", onsubmit: async (ev) => {
        ev.preventDefault();
        const body = { title: title.value, entry: entry.value, keyword: entry.value === "comment" ? keyword.value : "", winners: Number(winners.value), prize_kind: prizeKind.value, minutes: Number(mins.value) };
        if (prizeKind.value === "coupon") {
          if (!prize.value) { toast(t("先创建一张作奖品的优惠券", "Create a coupon to give as the prize first")); return; }
          body.prize_coupon_id = Number(prize.value);
        } else {
          if (!sku.value || !store.value) { toast(t("选择奖品商品和有货的自提门店", "Choose the prize item and a store that has it")); return; }
          body.prize_sku_id = Number(sku.value); body.prize_store_id = Number(store.value);
        }
        try {
          const d = await api("POST", "/api/v1/rooms/" + slug + "/draws", body);
          draws.unshift(d); renderDraws(); toast(t("福袋已发出", "Lucky bag opened"));
        } catch (e) { toast(e.message); }
      } }, lab("名称", "Title", title), lab("参与方式", "Entry", entry), lab("口令", "Keyword", keyword), lab("中奖人数", "Winners", winners),
        lab("奖品", "Prize", prizeKind), couponLabel, skuLabel, storeLabel, lab("分钟", "Minutes", mins),
        h("button", { class: "btn btn-primary btn-sm", type: "submit", id: "draw-start" }, t("发福袋", "Open lucky bag"))));
    showPrize();
  }

  SL.studioCoupons = {
    async load(roomSlug) {
      slug = roomSlug;
      try { coupons = (await api("GET", "/api/v1/coupons?room=" + encodeURIComponent(slug))).coupons; } catch (e) { coupons = []; }
      try { draws = (await api("GET", "/api/v1/rooms/" + slug + "/draws")).draws; } catch (e) { draws = []; }
      try { // the prize item of a zero-price 福袋: any SKU of the shop
        skus = ((await api("GET", "/api/v1/products")).products || []).flatMap((p) => (p.skus || []).map((k) => ({ id: k.id, label: (SL.pname ? SL.pname(p) : p.name) + " · " + k.name })));
      } catch (e) { skus = []; }
      renderCoupons(); renderDraws();
    },
  };
})();
