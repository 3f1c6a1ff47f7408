// Admin → 会员: the membership programme (tiers by spend or points, points
// per yuan), member prices per SKU, and the members with their cards.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};

  SL.adminTabs.members = async function (c) {
    const { main, h, t, api, toast, table, toolbar, fmt } = c;
    const yuan = SL.yuan;
    const [prog, list, prices, prods] = await Promise.all([api("GET", "/api/v1/members/program"), api("GET", "/api/v1/members"),
      api("GET", "/api/v1/members/prices"), api("GET", "/api/v1/products")]);
    const tierName = (x) => SL.lang === "en" && x.name_en ? x.name_en : x.name;
    const byPoints = () => basis.value === "points";

    // programme
    const basis = h("select", { id: "member-basis" },
      h("option", { value: "spend", selected: prog.basis === "spend" }, t("按累计消费", "By spend")),
      h("option", { value: "points", selected: prog.basis === "points" }, t("按累计积分", "By points")));
    const rate = h("input", { type: "number", id: "member-rate", min: "0", max: "100", value: prog.points_per_yuan });
    const tierBody = h("tbody", {});
    const tierRow = (x) => h("tr", {},
      h("td", {}, h("input", { class: "tier-name", value: x.name || "", maxlength: "12", "aria-label": t("名称", "Name") })),
      h("td", {}, h("input", { class: "tier-name-en", value: x.name_en || "", maxlength: "24", "aria-label": "English" })),
      h("td", {}, h("input", { class: "tier-threshold", type: "number", min: "0", step: "any", "aria-label": t("门槛", "Threshold"),
        value: prog.basis === "points" ? x.threshold : x.threshold / 100 })),
      h("td", {}, h("button", { class: "btn btn-sm", type: "button", onclick: (ev) => ev.target.closest("tr").remove() }, "×")));
    prog.tiers.forEach((x) => tierBody.append(tierRow(x)));
    // Saving keeps the programme's coupons-for-points offers (edited through the API).
    const save = h("button", { class: "btn btn-primary", id: "member-save", type: "button", onclick: async () => {
      const tiers = [...tierBody.querySelectorAll("tr")].map((r) => {
        const v = Number(r.querySelector(".tier-threshold").value) || 0;
        return { name: r.querySelector(".tier-name").value, name_en: r.querySelector(".tier-name-en").value, threshold: byPoints() ? Math.round(v) : Math.round(v * 100) };
      });
      try { await api("PUT", "/api/v1/members/program", { basis: basis.value, points_per_yuan: Number(rate.value), tiers, exchange: prog.exchange || [] }); toast(t("已保存会员规则", "Programme saved")); }
      catch (e) { toast(e.message); }
    } }, t("保存", "Save"));

    // member prices
    const mp = new Map((prices.prices || []).map((x) => [x.sku_id, x.member_price_fen]));
    const priceRows = [];
    for (const p of prods.products || []) for (const k of p.skus || []) {
      const input = h("input", { type: "number", min: "0", step: "0.01", class: "member-price", dataset: { sku: k.id }, value: mp.has(k.id) ? (mp.get(k.id) / 100).toFixed(2) : "", placeholder: t("无", "none"), "aria-label": t("会员价", "Member price") });
      priceRows.push(h("tr", {}, h("td", {}, h("b", {}, SL.pname ? SL.pname(p) : p.name), " ", h("span", { class: "muted" }, k.name)), h("td", {}, yuan(k.price_fen)), h("td", {}, input),
        h("td", {}, h("button", { class: "btn btn-sm", type: "button", onclick: async () => {
          const fen = input.value === "" ? 0 : Math.round(Number(input.value) * 100);
          try { await api("PUT", "/api/v1/members/prices", { sku_id: k.id, member_price_fen: fen }); toast(fen ? t("会员价已设置", "Member price set") : t("已取消会员价", "Member price cleared")); }
          catch (e) { toast(e.message); }
        } }, t("保存", "Save")))));
    }

    main.replaceChildren(
      toolbar(t("会员", "Members")),
      h("p", { class: "muted small" }, t("会员在直播间或「我的」一键加入，获得会员号。支付成功的订单按每元积分计入（每单一次），退款按退款比例扣回，积分不会扣成负数。会员价在下单的同一事务里按会员身份计算。",
        "Viewers join in the room or on Me and get a number. Paid orders earn points per yuan (once per order); refunds take back their share, never below zero. Member prices apply in the order's own transaction.")),
      h("h2", {}, t("等级与积分", "Tiers and points")),
      h("div", { class: "admin-toolbar" }, h("div", {}, h("label", { class: "inline" }, t("等级依据 ", "Tiers by "), basis), " ", h("label", { class: "inline" }, t("每元积分 ", "Points per yuan "), rate))),
      h("div", { class: "table-wrap" }, h("table", { class: "data", id: "member-tiers" }, h("thead", {}, h("tr", {}, h("th", {}, t("等级", "Tier")), h("th", {}, "English"),
        h("th", {}, t("门槛（元或积分）", "Threshold (yuan or points)")), h("th", {}, ""))), tierBody)),
      h("div", { class: "admin-toolbar" }, h("button", { class: "btn", type: "button", onclick: () => tierBody.append(tierRow({ threshold: 0 })) }, t("添加等级", "Add a tier")), save),
      h("h2", {}, t("会员价", "Member prices")),
      priceRows.length ? table([t("商品", "Item"), t("原价", "Price"), t("会员价（元）", "Member price (¥)"), ""], priceRows) : h("p", { class: "muted" }, t("还没有商品。", "No products yet.")),
      h("h2", {}, t("会员", "Members") + " (" + list.members.length + ")"),
      list.members.length === 0 ? h("p", { class: "muted", id: "members-empty" }, t("还没有会员。", "No members yet.")) :
        table([t("会员号", "No."), t("等级", "Tier"), t("积分", "Points"), t("累计消费", "Spend"), t("入会", "Joined"), t("来源", "Source")],
          list.members.map((m) => h("tr", {}, h("td", { class: "mono" }, m.number), h("td", {}, tierName(m.tier)), h("td", {}, m.points), h("td", {}, yuan(m.spend_fen)),
            h("td", {}, fmt(m.joined_at)), h("td", { class: "small muted" }, m.source)))));
  };
})();
