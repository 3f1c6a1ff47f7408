// Buyer login on a page that needs it (my orders, an order): phone + one-time
// code, then the same address again, now with the viewer session.
"use strict";
(function () {
  const { t, api } = SL;
  const $ = (id) => document.getElementById(id);
  const form = $("buyer-login"), err = $("login-error"), send = $("otp-send");
  const showErr = (m) => { err.textContent = m; err.classList.remove("hidden"); };
  const merchant = () => $("buyer-merchant").value.trim();
  send.addEventListener("click", async () => {
    err.classList.add("hidden");
    try {
      const r = await api("POST", "/api/v1/auth/otp", { merchant: merchant(), phone: $("login-phone").value });
      send.disabled = true;
      let n = 60;
      const tick = setInterval(() => { send.textContent = n-- + "s"; if (n < 0) { clearInterval(tick); send.disabled = false; send.textContent = t("重新发送", "Resend"); } }, 1000);
      if (r.dev_code) { $("otp-dev").textContent = t("开发模式：验证码 ", "Dev mode: your code is ") + r.dev_code; $("otp-dev").classList.remove("hidden"); }
      $("login-code").focus();
    } catch (e) { showErr(e.message); }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.classList.add("hidden");
    try {
      await api("POST", "/api/v1/auth/otp/verify", { merchant: merchant(), phone: $("login-phone").value, code: $("login-code").value });
      location.reload();
    } catch (e) { showErr(e.message); }
  });
})();
