// 我的: cancel a subscription, erase personal data. Channel switches
// (Web Push, SMS) are added by me_channels.js.
"use strict";
(function () {
  const SL = window.SL;
  const { t } = SL;
  document.querySelectorAll(".sub-cancel").forEach((btn) => {
    btn.addEventListener("click", async () => {
      try {
        await SL.api("DELETE", "/api/v1/rooms/" + btn.dataset.slug + "/subscription");
        btn.closest("li").remove();
        SL.toast(t("已取消预约", "Subscription cancelled"));
      } catch (e) { SL.toast(e.message); }
    });
  });
  const forget = document.getElementById("wx-profile-forget");
  if (forget) {
    forget.addEventListener("click", async () => {
      try {
        await SL.api("DELETE", "/api/v1/me/wechat-profile");
        document.getElementById("wx-profile").remove();
        SL.toast(t("已删除微信昵称和头像", "WeChat nickname and avatar removed"));
      } catch (e) { SL.toast(e.message); }
    });
  }
  const erase = document.getElementById("erase-data");
  erase.addEventListener("click", async () => {
    if (!window.confirm(t("确定删除您的个人信息吗？此操作不能撤销，您将退出登录。", "Erase your personal data? This cannot be undone, and you will be logged out."))) return;
    try {
      await SL.api("DELETE", "/api/v1/me");
      SL.toast(t("已删除", "Erased"));
      window.location.href = "/";
    } catch (e) { SL.toast(e.message); }
  });
})();
