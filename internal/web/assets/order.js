// Order page: live status (paid → ready → completed), pay and cancel.
"use strict";
(function () {
  const { h, t, api, toast } = SL;
  const page = document.getElementById("order-page");
  const id = Number(page.dataset.order);
  const steps = document.getElementById("steps");
  const labels = {
    pending_payment: t("待支付", "Awaiting payment"), paid: t("已支付", "Paid"), ready: t("待取货", "Ready for pickup"),
    shipped: t("已发货", "Shipped"), completed: t("已完成", "Completed"), cancelled: t("已取消", "Cancelled"), expired: t("已超时", "Expired"),
  };
  function drawSteps(status, ful) {
    const flow = ful === "pickup" ? ["pending_payment", "paid", "ready", "completed"] : ["pending_payment", "paid", "shipped", "completed"];
    const at = flow.indexOf(status);
    steps.replaceChildren(...flow.map((s, i) => h("li", { class: at >= i ? "done" : "" }, labels[s])));
  }
  function apply(o) {
    const card = document.getElementById("status-card");
    card.className = "card status-card status-" + o.status;
    document.getElementById("status-label").textContent = labels[o.status] || o.status;
    drawSteps(o.status, o.fulfilment);
    document.getElementById("pay-card").classList.toggle("hidden", o.status !== "pending_payment");
    const showCode = o.fulfilment === "pickup" && (o.status === "paid" || o.status === "ready");
    const pc = document.getElementById("pickup-card");
    if (showCode) {
      document.getElementById("pickup-code").textContent = o.pickup_code.slice(0, 4) + " " + o.pickup_code.slice(4);
      document.getElementById("pickup-qr").src = "/qr/orders/" + o.id + "?s=" + o.status;
    }
    pc.classList.toggle("hidden", !showCode);
    document.getElementById("refunded-row").classList.toggle("hidden", !o.refunded_fen);
    document.getElementById("refunded-fen").textContent = SL.yuan(o.refunded_fen || 0);
    if (SL.aftersale) SL.aftersale.refresh(o);
    if (SL.tracking) SL.tracking.refresh(o);
  }
  drawSteps(steps.dataset.status, steps.dataset.fulfilment);

  SL.connect(["order:" + id], {
    // The message carries the status only (no pickup code: staff may watch
    // this topic too); the buyer's own view comes from the API.
    event(topic, type, d) {
      if (type === "shipment.updated") { api("GET", "/api/v1/orders/" + id).then(apply).catch(() => {}); return; }
      if (type === "aftersale.status") { api("GET", "/api/v1/orders/" + id).then(apply).catch(() => {}); return; }
      if (type === "order.status" && d.order) { api("GET", "/api/v1/orders/" + id).then(apply).catch(() => {}); toast(labels[d.order.status] || d.order.status); } },
    status(s) { if (s === "open") api("GET", "/api/v1/orders/" + id).then(apply).catch(() => {}); },
  });

  const payBtn = document.getElementById("pay-btn");
  if (payBtn) payBtn.addEventListener("click", async () => {
    payBtn.disabled = true;
    try { await SL.checkout(id); } catch (e) { if (e.code !== "cancelled") toast(e.message); }
    payBtn.disabled = false;
  });
  if (payBtn && new URLSearchParams(location.search).get("pay") === "1") payBtn.click(); // back from the WeChat sign-in
  const cancelBtn = document.getElementById("cancel-btn");
  if (cancelBtn) cancelBtn.addEventListener("click", async () => {
    if (!confirm(t("确定取消这个订单吗？", "Cancel this order?"))) return;
    try { apply(await api("POST", "/api/v1/orders/" + id + "/cancel")); } catch (e) { toast(e.message); }
  });
  const exp = document.getElementById("expires");
  if (exp) {
    const at = Number(exp.dataset.at);
    const tick = () => { const s = Math.max(0, Math.round((at - Date.now()) / 1000)); exp.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); };
    tick(); setInterval(tick, 1000);
  }
})();
