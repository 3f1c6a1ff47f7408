// Viewer room before the live: 预约 — ask to be reminded 15 minutes before
// it starts and when it starts (the reminders land in 我的 → 消息).
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  const root = document.getElementById("live");
  let st;
  try { st = JSON.parse(document.getElementById("room-state").textContent); } catch (e) { return; }
  if (!st || !st.room || st.room.status !== "scheduled") return;
  const slug = root.dataset.slug;
  const btn = h("button", { class: "btn btn-primary subscribe-btn", id: "subscribe-btn", type: "button" });
  const box = h("div", { class: "subscribe-box", id: "subscribe-box" }, btn);
  const show = (on, n) => {
    btn.textContent = on ? t("已预约，开播前提醒您", "Subscribed: we'll remind you") : t("预约直播提醒", "Remind me when it starts");
    btn.classList.toggle("btn-ghost", on); btn.classList.toggle("btn-primary", !on);
    btn.dataset.on = on ? "1" : "";
    if (n !== undefined) btn.title = n + t(" 人已预约", " subscribed");
  };
  async function toggle() {
    if (!SL.loggedIn || !SL.loggedIn()) { SL.openLogin(toggle); return; }
    try {
      if (btn.dataset.on) { await SL.api("DELETE", "/api/v1/rooms/" + slug + "/subscription"); show(false); SL.toast(t("已取消预约", "Subscription cancelled")); }
      else { const r = await SL.api("PUT", "/api/v1/rooms/" + slug + "/subscription"); show(true, r.subscribers); SL.toast(t("预约成功，开播前 15 分钟提醒您", "Subscribed: a reminder 15 minutes before the start")); }
    } catch (e) { if (e.status === 401) { SL.openLogin(toggle); return; } SL.toast(e.message); }
  }
  btn.addEventListener("click", toggle);
  show(false);
  const note = document.getElementById("poster-note");
  note.parentNode.appendChild(box);
  if (root.dataset.loggedIn === "1") {
    SL.api("GET", "/api/v1/rooms/" + slug + "/subscription").then((r) => show(r.subscribed, r.subscribers)).catch(() => {});
  }
})();
