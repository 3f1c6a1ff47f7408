// 我的: the member card's join button (the card itself is server-rendered).
"use strict";
(function () {
  const btn = document.getElementById("member-join");
  if (!btn) return;
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await SL.api("POST", "/api/v1/me/membership", { source: "my" });
      location.reload();
    } catch (e) { btn.disabled = false; SL.toast ? SL.toast(e.message) : alert(e.message); }
  });
})();
