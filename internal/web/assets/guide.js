// The guide's phone page: copy a signed share link (the QR codes and
// posters are images and pages of their own).
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
})();
