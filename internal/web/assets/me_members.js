// 我的: the member card's join button and its coupons for points (the
// card itself is server-rendered).
"use strict";
(function () {
  const say = (m) => (SL.toast ? SL.toast(m) : alert(m));
  const btn = document.getElementById("member-join");
  if (btn) btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await SL.api("POST", "/api/v1/me/membership", { source: "my" });
      location.reload();
    } catch (e) { btn.disabled = false; say(e.message); }
  });
  for (const b of document.querySelectorAll(".points-offer")) {
    // One key per tap: a retried request is the same exchange.
    b.addEventListener("click", async () => {
      b.disabled = true;
      const key = "x-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
      try {
        const r = await SL.api("POST", "/api/v1/me/points/exchange", { coupon_id: Number(b.dataset.coupon) }, { "Idempotency-Key": key });
        document.getElementById("member-points").textContent = r.card.points;
        say(SL.t("已兑换，券已放入卡包", "Exchanged: the coupon is in your wallet"));
        setTimeout(() => location.reload(), 800);
      } catch (e) { b.disabled = false; say(e.message); }
    });
  }
})();
