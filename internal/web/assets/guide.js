// The guide's phone page: copy a signed share link (the QR codes and
// posters are images and pages of their own), and send a live to the
// guide's WeCom customers (a 群发 task the guide confirms in WeCom).
"use strict";
(function () {
  const SL = window.SL;
  const { t } = SL;
  document.querySelectorAll(".copy-link").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const url = btn.dataset.url;
      try {
        await navigator.clipboard.writeText(url);
      } catch (e) {
        const input = btn.closest("li").querySelector(".guide-url");
        input.select();
        document.execCommand("copy");
      }
      SL.toast(t("链接已复制，发给顾客吧", "Link copied: send it to your customers"));
    });
  });
  document.querySelectorAll(".wecom-send").forEach((btn) => {
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const r = await SL.api("POST", "/api/v1/guides/me/wecom/send", { slug: btn.dataset.slug });
        const failed = (r.fail_list || []).length;
        SL.toast(r.repeated ? t("今天已发送过，请在企业微信中确认群发", "Already sent today: confirm it in WeCom")
          : t("已创建群发，请在企业微信中确认发送", "Created: confirm the send in WeCom") + (failed ? t("（" + failed + " 位客户无法接收）", " (" + failed + " customers cannot receive it)") : ""));
      } catch (e) {
        SL.toast(e.message);
      } finally {
        btn.disabled = false;
      }
    });
  });
})();
