// Order page: a delivery order's parcel — carrier, tracking number and the
// timeline (provider entries and the store's own), newest first. order.js
// calls refresh on every change of the order (shipment.updated included).
"use strict";
(function () {
  const { h, t, api } = SL;
  const card = document.getElementById("tracking-card");
  if (!card) return;
  const stageText = { collected: t("已揽收", "Collected"), in_transit: t("运输中", "In transit"), delivering: t("派送中", "Out for delivery"),
    delivered: t("已签收", "Delivered"), problem: t("异常", "Problem"), returned: t("已退回", "Returned") };
  async function refresh(o) {
    if (o.fulfilment !== "delivery" || !["shipped", "completed"].includes(o.status)) { card.classList.add("hidden"); return; }
    let sh;
    try { sh = (await api("GET", "/api/v1/orders/" + o.id + "/shipment")).shipment; } catch (e) { return; }
    if (!sh) { card.classList.add("hidden"); return; }
    document.getElementById("tracking-head").textContent = (SL.lang === "en" ? sh.carrier_en : sh.carrier_zh) + (sh.carrier === "local" ? "" : " · " + sh.tracking_no);
    document.getElementById("tracking-timeline").replaceChildren(...sh.events.map((e, i) =>
      h("li", { class: i === 0 ? "now stage-" + e.stage : "stage-" + e.stage, dataset: { stage: e.stage } },
        h("div", { class: "tl-head" }, h("b", {}, stageText[e.stage] || e.stage), h("span", { class: "muted small" }, SL.fmtTime(e.at))),
        h("div", { class: "small" }, e.text + (e.location ? " · " + e.location : "")))));
    card.classList.remove("hidden");
  }
  SL.tracking = { refresh };
  const page = document.getElementById("order-page");
  api("GET", "/api/v1/orders/" + page.dataset.order).then(refresh).catch(() => {});
})();
