// The dev provider's checkout: confirm sends the provider's signed callback.
"use strict";
(function () {
  const { t, api, toast } = SL;
  const page = document.getElementById("pay-page");
  const btn = document.getElementById("confirm-pay");
  if (!btn) return;
  btn.addEventListener("click", async () => {
    btn.disabled = true; btn.textContent = t("支付中…", "Paying…");
    try {
      const r = await api("POST", "/api/v1/payments/dev/" + encodeURIComponent(page.dataset.intent) + "/confirm");
      if (r.status === "paid") { btn.textContent = t("支付成功", "Paid"); location.href = "/orders/" + r.order_id; return; }
      throw new Error(t("支付未完成", "Payment not completed"));
    } catch (e) { toast(e.message); btn.disabled = false; btn.textContent = t("确认支付", "Confirm payment"); }
  });
})();
