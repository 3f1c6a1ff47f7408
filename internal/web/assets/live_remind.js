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
      else { const r = await SL.api("PUT", "/api/v1/rooms/" + slug + "/subscription"); show(true, r.subscribers); SL.toast(t("预约成功，开播前 15 分钟提醒您", "Subscribed: a reminder 15 minutes before the start")); offerPush(); }
    } catch (e) { if (e.status === 401) { SL.openLogin(toggle); return; } SL.toast(e.message); }
  }
  btn.addEventListener("click", toggle);
  // After 预约, offer this browser's push notifications (asked only on a tap).
  const pushBtn = h("button", { class: "btn btn-ghost push-btn hidden", id: "push-btn", type: "button" }, t("开启浏览器推送提醒", "Also remind me by push"));
  box.appendChild(pushBtn);
  async function offerPush() {
    if (!SL.push || !SL.push.supported()) return;
    try { if ((await SL.push.state()) === "off") pushBtn.classList.remove("hidden"); } catch (e) { /* no push here */ }
  }
  pushBtn.addEventListener("click", async () => {
    try { await SL.push.enable(); pushBtn.classList.add("hidden"); SL.toast(t("已开启推送提醒（夜间 22:00–8:00 不打扰）", "Push reminders on (none 22:00–8:00 China time)")); }
    catch (e) { SL.toast(e.message); }
  });
  show(false);
  const note = document.getElementById("poster-note");
  note.parentNode.appendChild(box);
  if (root.dataset.loggedIn === "1") {
    SL.api("GET", "/api/v1/rooms/" + slug + "/subscription").then((r) => { show(r.subscribed, r.subscribers); if (r.subscribed) offerPush(); }).catch(() => {});
  }
})();
