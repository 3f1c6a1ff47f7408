// Staff login.
"use strict";
(function () {
  const { api } = SL;
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("login-error");
    err.classList.add("hidden");
    try {
      await api("POST", "/api/v1/auth/login", { login: form.login.value, password: form.password.value });
      location.href = form.dataset.next || "/studio";
    } catch (e) { err.textContent = e.message; err.classList.remove("hidden"); }
  });
})();
