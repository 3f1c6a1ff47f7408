// First start: create the first merchant and its owner (/setup).
"use strict";
(function () {
  const { api } = SL;
  const form = document.getElementById("setup-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("setup-error");
    err.classList.add("hidden");
    const btn = document.getElementById("setup-submit");
    btn.disabled = true;
    try {
      await api("POST", "/api/v1/setup", {
        setup_token: form.setup_token.value.trim(), name: form.name.value, slug: form.slug.value.trim(),
        owner_login: form.owner_login.value.trim(), password: form.password.value,
      });
      location.href = "/admin";
    } catch (e) {
      err.textContent = e.message; err.classList.remove("hidden");
      const f = e.field === "owner_login" ? "owner_login" : e.field;
      if (f && form[f]) form[f].focus();
    } finally { btn.disabled = false; }
  });
})();
