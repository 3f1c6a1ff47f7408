// Store staff verify a pickup code and hand over the order.
"use strict";
(function () {
  const { h, t, api, yuan, toast } = SL;
  const form = document.getElementById("pickup-form");
  const input = document.getElementById("pickup-input");
  const out = document.getElementById("pickup-result");
  const err = document.getElementById("pickup-error");
  const show = (o) => {
    const ok = o.status === "paid" || o.status === "ready";
    out.replaceChildren(...SL.kids(
      h("h2", {}, t("订单 ", "Order ") + o.number),
      h("p", {}, h("span", { class: "badge " + (o.status === "completed" ? "green" : ok ? "amber" : "red"), id: "pickup-status" }, SL.bi(o.status_label))),
      h("ul", { class: "lines" }, o.lines.map((l) => h("li", {}, h("span", {}, l.product_name + " ", h("small", { class: "muted" }, l.sku_name)), h("span", {}, "× " + l.quantity), h("span", {}, yuan(l.total_fen))))),
      h("div", { class: "total-row" }, h("span", {}, t("合计", "Total")), h("b", {}, yuan(o.total_fen))),
      ok ? h("button", { class: "btn btn-primary btn-block", id: "handover", type: "button", onclick: async (ev) => {
        ev.target.disabled = true;
        try { const done = await api("POST", "/api/v1/pickups/verify", { code: input.value, confirm: true }); show(done); toast(t("核销成功，请交付商品", "Verified — hand over the order")); }
        catch (e) { toast(e.message); ev.target.disabled = false; }
      } }, t("确认交付 · 核销", "Hand over & complete")) : null
    ));
    out.classList.remove("hidden");
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); err.classList.add("hidden"); out.classList.add("hidden");
    try { show(await api("POST", "/api/v1/pickups/verify", { code: input.value, confirm: false })); }
    catch (e) { err.textContent = e.message; err.classList.remove("hidden"); }
  });
})();
