// Admin console: shipping a delivery order with its carrier and tracking
// number, and its tracking timeline with manual entries (the rider's call,
// a parcel the provider does not know). Loaded after admin.js.
"use strict";
(function () {
  const { h, t, api, toast } = SL;
  const A = SL.admin;
  if (!A) return;
  let carriers = null;
  const loadCarriers = async () => carriers || (carriers = (await api("GET", "/api/v1/carriers")).carriers);
  const stageText = { collected: t("已揽收", "Collected"), in_transit: t("运输中", "In transit"), delivering: t("派送中", "Out for delivery"),
    delivered: t("已签收", "Delivered"), problem: t("异常", "Problem"), returned: t("已退回", "Returned") };

  // ship asks for the carrier and number; the server checks the number's shape.
  A.ship = async (o, current) => {
    const list = await loadCarriers();
    const sel = h("select", { name: "carrier", id: "ship-carrier" }, list.map((c) => h("option", { value: c.code, selected: current && current.carrier === c.code }, SL.lang === "en" ? c.en : c.zh)));
    const no = A.field(t("运单号（门店配送可不填）", "Tracking number (not needed for the store's rider)"), "tracking_no", current ? current.tracking_no : "", { id: "ship-no", autocomplete: "off", spellcheck: "false" });
    A.openModal(t("发货：", "Ship ") + o.number, [h("label", {}, t("快递公司", "Carrier"), sel), no], async (form) => {
      await api("POST", "/api/v1/orders/" + o.id + "/shipment", { carrier: form.carrier.value, tracking_no: form.tracking_no.value });
      toast(t("已发货，已通知顾客", "Shipped; the customer was told"));
      A.show("orders");
    });
  };

  // tracking shows the timeline and takes a manual entry.
  A.tracking = async (o) => {
    const r = await api("GET", "/api/v1/orders/" + o.id + "/shipment");
    const sh = r.shipment;
    if (!sh) { toast(t("尚未发货", "Not shipped yet")); return; }
    const lines = h("ol", { class: "timeline" }, sh.events.map((e) => h("li", {}, h("b", {}, stageText[e.stage] || e.stage), " ", SL.fmtTime(e.at), h("div", { class: "small" }, e.text + (e.location ? " · " + e.location : "")))));
    const head = h("p", { class: "full small" }, (SL.lang === "en" ? sh.carrier_en : sh.carrier_zh) + " " + sh.tracking_no + (sh.poll_error ? " · " + t("查询失败：", "Query failed: ") + sh.poll_error : ""));
    const fields = [head, h("div", { class: "full" }, lines)];
    if (sh.delivered) {
      A.openModal(t("物流：", "Tracking ") + o.number, fields, async () => {});
      return;
    }
    fields.push(h("label", {}, t("状态", "Stage"), h("select", { name: "stage" }, Object.entries(stageText).map(([v, l]) => h("option", { value: v, selected: v === "in_transit" }, l)))),
      A.field(t("说明", "Text"), "text", "", { required: true, maxlength: "200" }), A.field(t("地点", "Place"), "location", "", { maxlength: "60" }),
      h("p", { class: "full" }, h("button", { class: "btn btn-sm", type: "button", onclick: () => { A.closeModal(); A.ship(o, sh); } }, t("更正运单号", "Correct the number"))));
    A.openModal(t("物流：", "Tracking ") + o.number, fields, async (form) => {
      await api("POST", "/api/v1/orders/" + o.id + "/shipment/events", { stage: form.stage.value, text: form.text.value, location: form.location.value });
      toast(t("已记录，已通知顾客", "Recorded"));
      A.show("orders");
    });
  };
})();
