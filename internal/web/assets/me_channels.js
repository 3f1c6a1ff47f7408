// 我的 → 直播预约: one tap per channel. The inbox always gets reminders;
// Web Push (this browser) and SMS (opt-in) are switched here.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  const box = document.getElementById("channels");
  if (!box) return;
  let prefs;
  function row(id, label, note, on, click, disabled) {
    return h("label", { class: "channel-row", for: id },
      h("span", { class: "grow" }, h("b", {}, label), h("span", { class: "small muted" }, note)),
      h("input", { type: "checkbox", id, class: "switch", checked: on, disabled, onchange: click }));
  }
  function render() {
    const quiet = t("夜间 " + prefs.quiet_hours.from + ":00–" + prefs.quiet_hours.until + ":00 不打扰，早上再发", "None " + prefs.quiet_hours.from + ":00–" + prefs.quiet_hours.until + ":00 China time; sent in the morning");
    box.replaceChildren(
      row("ch-inbox", t("站内消息", "Inbox"), t("始终开启", "Always on"), true, null, true),
      row("ch-push", t("浏览器推送", "Browser push"), (prefs.push_devices ? t("已在 " + prefs.push_devices + " 个浏览器开启", "On in " + prefs.push_devices + " browser(s)") : t("本浏览器未开启", "Not on in this browser")) + " · " + quiet,
        prefs.push && prefs.push_devices > 0, togglePush, false),
      row("ch-sms", t("短信提醒", "Text message"), prefs.sms_available ? quiet : t("本店暂未开通", "Not offered by this shop"), prefs.sms, toggleSMS, !prefs.sms_available && !prefs.sms));
  }
  async function save(body) { prefs = await SL.api("PUT", "/api/v1/me/notify-prefs", body); render(); }
  async function togglePush(e) {
    const on = e.target.checked;
    try {
      if (on) { if (SL.push && SL.push.supported() && (await SL.push.state()) !== "on") await SL.push.enable(); await save({ push: true }); SL.toast(t("已开启推送提醒", "Push reminders on")); }
      else { await save({ push: false }); SL.toast(t("已关闭推送提醒", "Push reminders off")); }
    } catch (err) { SL.toast(err.message); load(); }
  }
  async function toggleSMS(e) {
    try { await save({ sms: e.target.checked }); SL.toast(e.target.checked ? t("已开启短信提醒", "Text reminders on") : t("已关闭短信提醒", "Text reminders off")); }
    catch (err) { SL.toast(err.message); load(); }
  }
  async function load() {
    try { prefs = await SL.api("GET", "/api/v1/me/notify-prefs"); render(); } catch (e) { /* channels off on this install */ }
  }
  load();
})();
