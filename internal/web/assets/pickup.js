// Store staff verify a pickup code and hand over the order.
"use strict";
(function () {
  const { h, t, api, yuan, toast } = SL;
  const form = document.getElementById("pickup-form");
  const input = document.getElementById("pickup-input");
  const out = document.getElementById("pickup-result");
  const err = document.getElementById("pickup-error");
  const show = (o) => {
    const held = o.held_lots || [];
    const ok = (o.status === "paid" || o.status === "ready") && held.length === 0;
    out.replaceChildren(...SL.kids(
      h("h2", {}, t("订单 ", "Order ") + o.number),
      h("p", {}, h("span", { class: "badge " + (o.status === "completed" ? "green" : ok ? "amber" : "red"), id: "pickup-status" }, SL.bi(o.status_label))),
      h("ul", { class: "lines" }, o.lines.map((l) => h("li", {}, h("span", {}, SL.itemName(l) + " ", h("small", { class: "muted" }, SL.skuName(l))), h("span", {}, "× " + l.quantity), h("span", {}, yuan(l.total_fen))))),
      h("div", { class: "total-row" }, h("span", {}, t("合计", "Total")), h("b", {}, yuan(o.total_fen))),
      held.length ? holdWarning(o, held) : null,
      ok ? h("button", { class: "btn btn-primary btn-block", id: "handover", type: "button", onclick: async (ev) => {
        ev.target.disabled = true;
        try { const done = await api("POST", "/api/v1/pickups/verify", { code: input.value, confirm: true }); show(done); toast(t("核销成功，请交付商品", "Verified — hand over the order")); }
        catch (e) { toast(e.message); ev.target.disabled = false; }
      } }, t("确认交付 · 核销", "Hand over & complete")) : null
    ));
    out.classList.remove("hidden");
  };
  // A lot of the order went on hold after payment (cold-chain review): the
  // food is not handed over. The way out is the quality team's release (then
  // look the code up again) or cancelling the order with a refund.
  const holdWarning = (o, held) => h("div", { class: "hold-warning", id: "pickup-hold", role: "alert" },
    h("b", {}, t("暂停交付：批次 ", "Do not hand over: lot ") + held.join(t("、", ", ")) + t(" 冷链复核中", " is under cold-chain review")),
    h("p", {}, t("请等待品控放行后重新查询，或取消订单并为顾客退款。", "Wait for the quality team's release and look the code up again, or cancel the order and refund the customer.")),
    h("button", { class: "btn btn-danger btn-block", id: "pickup-refund", type: "button", onclick: async (ev) => {
      if (!confirm(t("取消订单并全额退款？", "Cancel the order and refund in full?"))) return;
      ev.target.disabled = true;
      try { show(await api("POST", "/api/v1/orders/" + o.id + "/status", { status: "cancelled" })); toast(t("已取消并退款", "Cancelled and refunded")); }
      catch (e) { toast(e.message); ev.target.disabled = false; }
    } }, t("取消订单并退款", "Cancel and refund")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); err.classList.add("hidden"); out.classList.add("hidden");
    try { show(await api("POST", "/api/v1/pickups/verify", { code: input.value, confirm: false })); }
    catch (e) { err.textContent = e.message; err.classList.remove("hidden"); }
  });
})();
