// Admin → 优惠券: 新建优惠券 (POST /api/v1/coupons, the title reviewed: see
// createForm); 优惠券成本: per room and coupon, what was issued and used, what
// the savings on paid orders cost the shop, and the revenue those orders
// brought (GET /api/v1/reports/coupons); and 定向发券: one coupon to every
// customer of a segment, each told in their inbox (POST
// /api/v1/coupons/{id}/issue, once per Idempotency-Key: the key is made
// when the form is shown and kept for its retries, so a double click or a
// retry after a lost answer issues once).
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  // createForm: a draft coupon for the whole shop or one room (the studio
  // pushes a room's card; 定向发券 below issues it). Its title is reviewed
  // when it is created: refused, SL.couponReview shows the findings beside
  // the form and lets an owner confirm with a reason.
  function createForm(c, rooms) {
    const { h, t, api, toast, show } = c;
    const role = document.getElementById("admin").dataset.role;
    const fen = (v) => Math.round(Number(v || 0) * 100);
    const num = (id, value, attrs) => h("input", Object.assign({ id, type: "number", min: "0", value }, attrs));
    const kind = h("select", { id: "coupon-kind" }, [["fixed", t("立减", "Money off")], ["threshold", t("满减", "Spend & save")], ["percent", t("折扣", "Percent off")],
      ["newcomer", t("新人券", "First order")], ["room", t("直播间专享", "Live room only")]].map(([v, l]) => h("option", { value: v }, l)));
    const title = h("input", { id: "coupon-title", maxlength: "30", required: true, placeholder: t("如 会员日立减5元", "e.g. ¥5 off on member day") });
    const room = h("select", { id: "coupon-room" }, h("option", { value: "" }, t("全店（不限直播间）", "Whole shop (no room)")), rooms.map((x) => h("option", { value: x.slug }, x.title)));
    const amount = num("coupon-amount", "5", { step: "0.01" }), min = num("coupon-min", "0", { step: "0.01" }), pct = num("coupon-percent", "0", { max: "90" });
    const budget = num("coupon-budget", "100", { min: "1" }), limit = num("coupon-limit", "1", { min: "1", max: "10" }), days = num("coupon-days", "7", { min: "1", max: "365" });
    const err = h("p", { class: "form-error full hidden", role: "alert", id: "coupon-error" });
    const review = SL.couponReview(role, title, (override) => submit(override));
    const lab = (zh, en, el) => h("label", {}, t(zh, en), el);
    async function submit(override) {
      const body = { kind: kind.value, title: title.value.trim(), room: room.value, budget_count: Number(budget.value), per_user_limit: Number(limit.value),
        min_spend_fen: fen(min.value), valid_days: Number(days.value) };
      if (kind.value === "percent") { body.percent_off = Number(pct.value); body.max_off_fen = fen(amount.value); } else body.amount_fen = fen(amount.value);
      if (override) body.override = override;
      err.classList.add("hidden");
      try {
        await api("POST", "/api/v1/coupons", body);
        toast(t("优惠券已创建", "Coupon created")); show("coupons");
      } catch (e) {
        if (e.code === "compliance_blocked" && e.problem && e.problem.review) { review.show(e.problem.review); return; }
        err.textContent = e.message + SL.fieldText(e.field); err.classList.remove("hidden");
      }
    }
    const form = h("form", { class: "form-grid", id: "coupon-form", onsubmit: (ev) => { ev.preventDefault(); submit(); } },
      h("label", { class: "full" }, t("名称（顾客看到的券名，创建后不能修改）", "Title (what customers read; cannot be changed later)"), title),
      lab("券种", "Kind", kind), lab("直播间", "Room", room), lab("金额/最高优惠（元）", "Amount / max off (¥)", amount), lab("门槛（元）", "Spend at least (¥)", min),
      lab("折扣 %", "% off", pct), lab("发放张数", "Coupons", budget), lab("每人限领", "Per person", limit), lab("有效天数", "Valid for (days)", days), err,
      h("div", { class: "full" }, h("button", { class: "btn btn-primary", type: "submit", id: "coupon-create" }, t("创建优惠券", "Create coupon"))));
    return h("section", { class: "card", id: "coupon-new" }, h("h2", {}, t("新建优惠券", "New coupon")), h("div", { class: "coupon-new" }, form, review.el));
  }

  // segmentForm: pick a coupon (not a live card) and a segment, issue.
  async function segmentForm(c) {
    const { h, t, api, toast } = c;
    const [cl, prog, st, gr] = await Promise.all([api("GET", "/api/v1/coupons"), api("GET", "/api/v1/members/program").catch(() => ({ tiers: [] })),
      api("GET", "/api/v1/stores"), api("GET", "/api/v1/groups").catch(() => ({ groups: [] }))]);
    const usable = (cl.coupons || []).filter((x) => x.status !== "live" && new Date(x.valid_until) > new Date());
    let key = "";
    const fresh = () => { key = "segment-" + Date.now() + "-" + Math.random().toString(36).slice(2); };
    fresh();
    const coupon = h("select", { id: "issue-coupon", onchange: fresh }, usable.length ? usable.map((x) => h("option", { value: x.id },
      x.title + t("（剩余 ", " (") + x.remaining + t(" 张）", " left)"))) : [h("option", { value: "" }, t("没有可发放的券（直播中的券卡除外）", "No coupon to issue (cards live in a room excluded)"))]);
    const kind = h("select", { id: "issue-kind" },
      h("option", { value: "members" }, t("全部会员", "All members")),
      h("option", { value: "tier" }, t("会员等级及以上", "A tier and above")),
      h("option", { value: "fan_group" }, t("粉丝群成员", "A fan group")),
      h("option", { value: "category_buyers" }, t("买过某品类的顾客", "Past buyers of a category")),
      h("option", { value: "store_customers" }, t("某门店的顾客", "A store's customers")));
    const tier = h("select", { id: "issue-tier" }, (prog.tiers || []).map((x, i) => h("option", { value: i }, SL.lang === "en" && x.name_en ? x.name_en : x.name)));
    const group = h("select", { id: "issue-group" }, (gr.groups || []).map((g) => h("option", { value: g.id }, g.name)));
    const category = h("input", { id: "issue-category", maxlength: "20", placeholder: t("如 水果、乳品", "e.g. 水果, 乳品") });
    const store = h("select", { id: "issue-store" }, (st.stores || []).map((x) => h("option", { value: x.id }, x.name)));
    const extra = { tier: h("label", { class: "inline" }, t("等级 ", "Tier "), tier), fan_group: h("label", { class: "inline" }, t("粉丝群 ", "Group "), group),
      category_buyers: h("label", { class: "inline" }, t("品类 ", "Category "), category), store_customers: h("label", { class: "inline" }, t("门店 ", "Store "), store) };
    const slot = h("span", { id: "issue-extra" });
    const showExtra = () => { slot.replaceChildren(...(extra[kind.value] ? [extra[kind.value]] : [])); fresh(); };
    kind.addEventListener("change", showExtra);
    [tier, group, category, store].forEach((x) => x.addEventListener("change", fresh));
    const result = h("p", { id: "issue-result", class: "small" });
    const go = h("button", { class: "btn btn-primary", id: "issue-go", type: "button", disabled: !usable.length, onclick: async () => {
      const seg = { kind: kind.value };
      if (kind.value === "tier") seg.tier = Number(tier.value);
      if (kind.value === "fan_group") seg.group_id = Number(group.value);
      if (kind.value === "category_buyers") seg.category = category.value.trim();
      if (kind.value === "store_customers") seg.store_id = Number(store.value);
      go.disabled = true;
      try {
        const r = await api("POST", "/api/v1/coupons/" + coupon.value + "/issue", { segment: seg }, { "Idempotency-Key": key });
        result.textContent = r.repeated ? t("这次发放之前已完成：", "Already issued: ") + r.issued + t(" 位顾客各得一张，没有重复发放。", " customers got one each; nothing issued twice.")
          : t("已发放给 ", "Issued to ") + r.issued + t(" 位顾客，每人一张，已通知到他们的消息中心。", " customers, one each, told in their inbox.");
        toast(t("已发放", "Issued"));
      } catch (e) { result.textContent = e.message; toast(e.message); }
      go.disabled = false;
    } }, t("发放", "Issue"));
    showExtra();
    return h("section", { class: "card", id: "issue-segment" },
      h("h2", {}, t("定向发券", "Issue a coupon to a segment")),
      h("p", { class: "muted small" }, t("给一个人群的每位顾客各发一张券，并发到他们的消息中心。剩余数量须够发给人群中的每一位，否则一张都不发；同一次发放重复提交不会重复发。",
        "Gives every customer of a segment one coupon and a message in their inbox. The remaining budget must cover everyone or nobody gets one; submitting the same issue again never issues twice.")),
      h("div", { class: "admin-toolbar" }, h("div", {}, h("label", { class: "inline" }, t("优惠券 ", "Coupon "), coupon), " ", h("label", { class: "inline" }, t("人群 ", "Segment "), kind), " ", slot), go),
      result);
  }

  SL.adminTabs.coupons = async function (c) {
    const { main, h, t, api, table } = c;
    const yuan = SL.yuan;
    const [r, rooms] = await Promise.all([api("GET", "/api/v1/reports/coupons"), api("GET", "/api/v1/rooms").catch(() => ({ rooms: [] }))]);
    const kinds = { fixed: t("立减", "Money off"), threshold: t("满减", "Spend & save"), percent: t("折扣", "Percent off"), newcomer: t("新人券", "First order"), room: t("直播间专享", "Live only") };
    // Each role gets the forms it may submit: room.host creates coupons,
    // rooms.write issues them; every admin.view role reads the report.
    const can = (perm) => (document.getElementById("admin").dataset.perms || "").split(" ").includes(perm);
    main.replaceChildren(
      can("room.host") ? createForm(c, rooms.rooms || []) : "",
      can("rooms.write") ? await segmentForm(c) : "",
      h("h2", {}, t("优惠券成本（按直播间）", "Coupon cost per room")),
      h("p", { class: "muted small" }, t("成本 = 已支付订单上的优惠金额；取消的订单的券在有效期内退回，过期作废。", "Cost = savings on paid orders; a cancelled order's coupon returns while valid and is void after.")),
      table([t("直播间", "Room"), t("优惠券", "Coupon"), t("券种", "Kind"), t("发放/预算", "Issued / budget"), t("使用中", "Used"), t("支付订单", "Paid orders"), t("成本", "Cost"), t("带来收入", "Revenue"), t("退回", "Returned"), t("作废", "Void")],
        r.rows.length ? r.rows.map((x) => h("tr", { dataset: { coupon: x.coupon_id } },
          h("td", {}, x.room_title || x.room_slug || t("全店", "Whole shop")), h("td", {}, h("b", {}, x.title)), h("td", {}, kinds[x.kind] || x.kind),
          h("td", {}, x.issued + " / " + x.units), h("td", {}, x.used), h("td", {}, x.paid_orders), h("td", { class: "red-text" }, yuan(x.cost_fen)),
          h("td", {}, yuan(x.revenue_fen)), h("td", {}, x.returned), h("td", {}, x.void)))
          : [h("tr", {}, h("td", { colspan: "10", class: "muted" }, t("还没有优惠券", "No coupons yet")))]),
      h("p", { id: "coupon-total" }, h("b", {}, t("合计：", "Total: ")), t("发放 ", "issued ") + r.total.issued + t("，成本 ", ", cost ") + yuan(r.total.cost_fen) + t("，带来收入 ", ", revenue ") + yuan(r.total.revenue_fen)));
  };
})();
