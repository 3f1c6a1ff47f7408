// A product clip's page: share its link (with the sharer's signed code the
// server put in it) through the phone's share sheet, else copy it.
"use strict";
(function () {
  const { t, toast } = SL;
  const btn = document.getElementById("clip-share");
  if (!btn) return;
  btn.addEventListener("click", async () => {
    const url = btn.dataset.url, title = btn.dataset.title;
    if (navigator.share) {
      try { await navigator.share({ title, url }); return; } catch (e) { if (e && e.name === "AbortError") return; }
    }
    try {
      await navigator.clipboard.writeText(url);
      toast(t("链接已复制，发给好友吧", "Link copied: send it to a friend"));
    } catch (e) {
      window.prompt(t("复制这个链接", "Copy this link"), url);
    }
  });
})();
