// Admin → 优惠券成本: per room and coupon, what was issued and used, what
// the savings on paid orders cost the shop, and the revenue those orders
// brought (GET /api/v1/reports/coupons).
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  SL.adminTabs.coupons = async function (c) {
    const { main, h, t, api, table } = c;
    const yuan = SL.yuan;
    const r = await api("GET", "/api/v1/reports/coupons");
    const kinds = { fixed: t("立减", "Money off"), threshold: t("满减", "Spend & save"), percent: t("折扣", "Percent off"), newcomer: t("新人券", "First order"), room: t("直播间专享", "Live only") };
    main.replaceChildren(
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
