// A one-time staff link: join the shop, or set a new password.
"use strict";
(function () {
  const { api } = SL;
  const form = document.getElementById("invite-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("invite-error");
    err.classList.add("hidden");
    const btn = document.getElementById("invite-submit");
    btn.disabled = true;
    try {
      const s = await api("POST", "/api/v1/invites/accept", {
        token: form.dataset.token, username: form.username ? form.username.value.trim() : "", password: form.password.value,
      });
      location.href = (s.role === "store" || s.role === "guide") ? "/pickup" : (s.role === "host" ? "/studio" : "/admin");
    } catch (e) {
      err.textContent = e.message; err.classList.remove("hidden");
    } finally { btn.disabled = false; }
  });
})();
