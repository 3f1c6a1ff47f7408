// Admin → 售后: customers' refund, return and complaint requests with
// their photos and the time left to answer (when it lapses the request is
// approved automatically), approve (the refund goes to the payment
// provider once) or reject with a reason.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  const kinds = { refund_only: ["仅退款", "Refund only"], return_refund: ["退货退款", "Return and refund"], quality: ["质量投诉", "Quality complaint"] };
  const cls = { requested: "amber", refunding: "amber", refunded: "green", refund_failed: "red", rejected: "red", withdrawn: "" };
  const stockText = { written_off: ["已报损", "Written off"], restocked: ["已重新上架", "Back on sale"], released: ["订单取消，库存释放", "Order cancelled, stock released"], mixed: ["部分报损", "Partly written off"] };

  SL.adminTabs.aftersales = async function (c) {
    const { main, h, t, api, toast, table, toolbar, badge, fmt, openModal, field, show } = c;
    const q = new URLSearchParams(location.hash.split("?")[1] || "");
    const status = q.has("status") ? q.get("status") : "requested";
    const [r, rules] = await Promise.all([api("GET", "/api/v1/aftersales" + (status ? "?status=" + status : "")), api("GET", "/api/v1/aftersales/rules")]);
    const skew = new Date(r.now) - Date.now(); // count down on the server's clock
    const reason = (code) => { const x = rules.reasons.find((y) => y.code === code); return x ? t(x.zh, x.en) : code; };
    const left = (iso) => {
      const ms = new Date(iso) - (Date.now() + skew);
      if (ms <= 0) return h("span", { class: "deadline-late" }, t("已逾期：系统将自动同意", "Lapsed: approved automatically"));
      const hrs = Math.floor(ms / 3600000), min = Math.floor((ms % 3600000) / 60000);
      return h("span", { class: hrs < 4 ? "deadline-late" : "" }, t("剩 " + hrs + " 小时 " + min + " 分", hrs + " h " + min + " min left"));
    };
    const decide = (x, approve) => {
      const fields = [h("p", { class: "full small muted" }, approve
        ? t("同意后 " + SL.yuan(x.amount_fen) + " 将通过原支付渠道退回（只退一次）。", SL.yuan(x.amount_fen) + " goes back through the original payment (exactly once).")
        : t("拒绝须写明原因，顾客会收到通知。", "Say why; the customer is told.")),
        field(approve ? t("备注（选填）", "Note (optional)") : t("拒绝原因", "Reason"), "note", "", { full: true, textarea: true, required: !approve })];
      if (approve && x.kind === "return_refund") {
        fields.push(h("label", { class: "full check" }, h("input", { type: "checkbox", name: "received" }),
          t(" 已收到退回的商品（常温商品将重新上架；冷藏冷冻一律报损）", " Goods received back (ambient items go back on sale; chilled and frozen are written off)")));
      }
      openModal((approve ? t("同意退款 · ", "Approve · ") : t("拒绝 · ", "Reject · ")) + x.order_number, fields, async (form) => {
        await api("POST", "/api/v1/aftersales/" + x.id + "/decision", { approve, note: form.note.value, received: !!(form.received && form.received.checked) });
        toast(approve ? t("已同意，退款处理中", "Approved; refunding") : t("已拒绝", "Rejected"));
        show("aftersales");
      });
    };
    const filter = h("select", { id: "aftersale-filter", onchange: (ev) => { location.hash = "aftersales?status=" + ev.target.value; } },
      [["requested", t("待处理", "To review")], ["refunding", t("退款中", "Refunding")], ["refunded", t("已退款", "Refunded")], ["refund_failed", t("退款失败", "Refund failed")], ["rejected", t("已拒绝", "Rejected")], ["", t("全部", "All")]]
        .map(([v, l]) => h("option", { value: v, selected: v === status }, l)));
    main.replaceChildren(
      toolbar(t("售后", "After-sales"), filter),
      h("p", { class: "small muted" }, t("门店须在 " + rules.review_hours + " 小时内处理；逾期未处理的申请按原申请自动同意（退货视为未收到，不重新上架）。",
        "Stores answer within " + rules.review_hours + " h; a request left unanswered is approved as asked (a return counts as not received, nothing goes back on sale).")),
      r.requests.length === 0 ? h("div", { class: "card muted", id: "aftersale-empty" }, t("没有这类申请", "No requests here")) :
        table([t("订单", "Order"), t("类型", "Type"), t("原因与说明", "Reason & note"), t("照片", "Photos"), t("金额", "Amount"), t("申请时间", "Asked"), t("处理时限", "Answer by"), t("状态", "Status"), ""],
          r.requests.map((x) => h("tr", { dataset: { id: x.id } },
            h("td", { class: "mono" }, x.order_number, x.before_handover ? h("div", { class: "small muted" }, t("未取货", "Not picked up")) : null),
            h("td", {}, t(kinds[x.kind][0], kinds[x.kind][1]), x.lines.length ? h("div", { class: "small muted" }, x.lines.map((l) => "SKU " + l.sku_id + "×" + l.quantity).join("，")) : null),
            h("td", {}, reason(x.reason), x.note ? h("div", { class: "small muted" }, x.note) : null),
            h("td", {}, h("div", { class: "thumbs" }, x.photos.map((p) => h("a", { href: p, target: "_blank", rel: "noopener" }, h("img", { src: p, alt: t("照片", "Photo"), width: 56, height: 56 }))))),
            h("td", {}, SL.yuan(x.amount_fen)),
            h("td", {}, fmt(x.created_at)),
            h("td", {}, x.status === "requested" ? left(x.review_by) : h("span", { class: "small muted" }, x.decided_by ? x.decided_by + " · " + (x.decided_at ? fmt(x.decided_at) : "") : "")),
            h("td", {}, badge(SL.bi(x.status_label), cls[x.status]), stockText[x.stock] ? h("div", { class: "small muted" }, t(stockText[x.stock][0], stockText[x.stock][1])) : null,
              x.decision_note ? h("div", { class: "small muted" }, x.decision_note) : null),
            h("td", {}, x.status === "requested" ? [
              h("button", { class: "btn btn-sm btn-primary", type: "button", "data-action": "approve", onclick: () => decide(x, true) }, t("同意退款", "Approve")),
              h("button", { class: "btn btn-sm", type: "button", "data-action": "reject", onclick: () => decide(x, false) }, t("拒绝", "Reject"))]
              : x.status === "refund_failed" && x.refund_no ? h("button", { class: "btn btn-sm btn-primary", type: "button", "data-action": "retry-refund", onclick: async () => {
                try { await api("POST", "/api/v1/orders/" + x.order_id + "/refunds/retry", { refund_no: x.refund_no }); toast(t("已重新发起退款", "Refund sent again")); show("aftersales"); } catch (e) { toast(e.message); }
              } }, t("重试退款", "Retry refund")) : null))))
    );
  };
})();
