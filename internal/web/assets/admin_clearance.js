// Admin → 临期清仓: today's near-expiry stock per store at ladder prices,
// one click to a clearance live, the markdown rules, and the waste saved.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  const storageLabel = { chilled: ["冷藏", "Chilled"], frozen: ["冷冻", "Frozen"], ambient: ["常温", "Ambient"] };

  SL.adminTabs.clearance = async function (c) {
    const { main, h, t, api, toast, table, toolbar, fmt } = c;
    const yuan = SL.yuan;
    const q = new URLSearchParams(location.hash.split("?")[1] || "");
    const stores = (await api("GET", "/api/v1/stores")).stores;
    const storeID = Number(q.get("store")) || (stores[0] && stores[0].id) || 0;
    const [cl, rep] = await Promise.all([api("GET", "/api/v1/clearance/candidates?store_id=" + storeID), api("GET", "/api/v1/clearance/report")]);
    const sl = (s) => (storageLabel[s] ? t(storageLabel[s][0], storageLabel[s][1]) : s);
    const left = (hrs) => hrs < 24 ? t("剩 " + Math.round(hrs) + " 小时", Math.round(hrs) + " h left") : t("剩 " + Math.round(hrs / 24) + " 天", Math.round(hrs / 24) + " days left");

    const storeSel = h("select", { id: "clearance-store", onchange: (ev) => { location.hash = "clearance?store=" + ev.target.value; } },
      stores.map((s) => h("option", { value: s.id, selected: s.id === storeID }, SL.sname(s))));
    const seen = new Set();
    const rows = cl.candidates.map((x) => {
      const first = !seen.has(x.sku_id); seen.add(x.sku_id);
      return h("tr", {},
        h("td", {}, first ? h("input", { type: "checkbox", name: "sku", value: x.sku_id, checked: true, "aria-label": SL.itemName(x) }) : null),
        h("td", {}, h("b", {}, SL.itemName(x)), " ", h("span", { class: "muted" }, x.sku_name)),
        h("td", { class: "mono" }, x.lot_code), h("td", {}, sl(x.storage)),
        h("td", {}, fmt(x.expires_at), h("div", { class: "small " + (x.hours_left < 24 ? "red-text" : "muted") }, left(x.hours_left))),
        h("td", {}, x.available), h("td", {}, h("del", { class: "muted" }, yuan(x.regular_fen)), " ", h("b", { class: "red-text" }, yuan(x.price_fen))),
        h("td", { class: "small muted" }, yuan(x.floor_fen)));
    });
    const minutes = h("input", { type: "number", id: "clearance-minutes", min: "10", max: "720", value: "60" });
    const limit = h("input", { type: "number", id: "clearance-limit", min: "1", max: "99", value: "5" });
    // Who may see and buy: everyone, or a segment (others see the way to join).
    const audience = h("select", { id: "clearance-audience" },
      h("option", { value: "" }, t("所有观众", "Everyone")),
      h("option", { value: "members" }, t("仅会员（非会员看到入会入口）", "Members only (others see how to join)")));
    const start = h("button", { class: "btn btn-primary", id: "clearance-start", type: "button", disabled: cl.candidates.length === 0, onclick: async () => {
      const skus = [...main.querySelectorAll("input[name=sku]:checked")].map((x) => Number(x.value));
      if (skus.length === 0) { toast(t("请至少选择一个商品", "Choose at least one item")); return; }
      try {
        const body = { store_id: storeID, sku_ids: skus, minutes: Number(minutes.value), per_user_limit: Number(limit.value) };
        if (audience.value) body.segment = { kind: audience.value };
        const s = await api("POST", "/api/v1/clearance/sessions", body);
        toast(t("已创建清仓直播", "Clearance live created"));
        main.querySelector("#clearance-made").replaceChildren(h("div", { class: "card notice" },
          h("p", {}, t("清仓直播已开始秒杀：", "The clearance live's offers are on: "), h("a", { href: "/live/" + s.room_slug, target: "_blank" }, "/live/" + s.room_slug),
            t("。去主播工作台开播。", ". Open the studio to go live."))));
      } catch (e) { toast(e.message); }
    } }, t("一键开清仓直播", "Start a clearance live"));

    const savedTotal = rep.rows.reduce((a, r) => ({ units: a.units + r.units_sold, grams: a.grams + r.grams_sold, fen: a.fen + r.revenue_fen }), { units: 0, grams: 0, fen: 0 });
    main.replaceChildren(
      toolbar(t("临期清仓", "Near-expiry clearance"), h("label", { class: "inline" }, t("门店 ", "Store "), storeSel)),
      h("p", { class: "muted small" }, t("按储存方式的临期规则列出本店今天要清的批次，价格按剩余时间阶梯下调且不低于保底价。一键开清仓直播：为每个商品最早到期的批次开一场限时限量秒杀，到店自提，卡片上始终显示到期日。",
        "The batches this store should clear today by the near-expiry rules, priced down by time left and never below the floor. One click makes a clearance live: a time- and quantity-limited offer on each item's soonest-expiring batch, picked up at this store, with the expiry date on the card.")),
      h("div", { id: "clearance-made" }),
      cl.candidates.length === 0 ? h("p", { class: "muted", id: "clearance-empty" }, t("本店目前没有临期商品。", "Nothing near expiry in this store right now.")) :
        table(["", t("商品", "Item"), t("批次", "Batch"), t("储存", "Storage"), t("到期", "Expires"), t("可售", "Units"), t("清仓价", "Clearance price"), t("保底价", "Floor")], rows),
      h("div", { class: "admin-toolbar" }, h("div", {}, h("label", { class: "inline" }, t("时长（分钟）", "Minutes"), minutes), " ", h("label", { class: "inline" }, t("每人限购", "Per buyer"), limit), " ", h("label", { class: "inline" }, t("观众", "Audience"), audience)), start),
      h("h2", {}, t("近 30 天减少的浪费", "Waste saved, last 30 days")),
      rep.rows.length === 0 ? h("p", { class: "muted" }, t("还没有清仓直播的成交。", "No clearance sales yet.")) :
        h("div", {}, h("p", { id: "waste-total" }, t("共售出 ", "Sold "), h("b", {}, savedTotal.units), t(" 件（约 ", " units (about "), h("b", {}, (savedTotal.grams / 1000).toFixed(1)), t(" 千克）免于报废，回收 ", " kg) instead of writing them off, recovering "), h("b", {}, yuan(savedTotal.fen))),
          table([t("门店", "Store"), t("储存", "Storage"), t("场次", "Sessions"), t("上架", "Offered"), t("售出", "Sold"), t("千克", "kg"), t("回收金额", "Recovered"), t("原价值", "At regular price")],
            rep.rows.map((r) => h("tr", {}, h("td", {}, r.store_name), h("td", {}, sl(r.storage)), h("td", {}, r.sessions), h("td", {}, r.units_offered), h("td", {}, r.units_sold),
              h("td", {}, (r.grams_sold / 1000).toFixed(1)), h("td", {}, yuan(r.revenue_fen)), h("td", { class: "muted" }, yuan(r.regular_value_fen)))))),
      h("h2", {}, t("临期规则与降价阶梯", "Near-expiry rules and markdown ladders")),
      table([t("储存", "Storage"), t("提前", "Lead time"), t("阶梯（剩余小时:折扣%）", "Ladder (hours left: % of price)"), t("保底", "Floor")],
        cl.rules.map((r) => h("tr", {}, h("td", {}, sl(r.storage)), h("td", {}, r.lead_hours >= 48 ? t(r.lead_hours / 24 + " 天", r.lead_hours / 24 + " days") : t(r.lead_hours + " 小时", r.lead_hours + " h")),
          h("td", { class: "mono" }, r.ladder.map((s) => s.hours_left + "h:" + s.percent + "%").join("  ")), h("td", {}, r.floor_percent + "%")))),
      h("p", { class: "muted small" }, t("规则可通过 PUT /api/v1/clearance/rules 修改。", "Change them with PUT /api/v1/clearance/rules.")));
  };
})();
