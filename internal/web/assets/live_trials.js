// Viewer room: an open new-product trial (内测) of the room as a chip —
// "新品内测 · 免费试用 20 份" — that opens the trial's page to apply.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  const el = document.getElementById("trial-chip");
  if (!el) return;
  let st = null;
  try { st = JSON.parse(document.getElementById("room-state").textContent); } catch (e) { return; }
  const tr = st && st.trials && st.trials[0];
  if (!tr) return;
  el.href = "/trials/" + tr.id;
  el.dataset.trial = tr.id;
  el.replaceChildren(
    h("span", { class: "tag" }, t("新品内测 · 免费试用", "Trial · free sample")),
    h("b", {}, tr.title),
    h("small", {}, tr.quota + t(" 份名额 · ", " places · ") + tr.applicants + t(" 人已申请 · 去申请 ›", " applied · Apply ›")));
  // below the pre-sale chip when the room has one
  const ps = document.getElementById("presale-chip");
  el.classList.toggle("below", !!(ps && !ps.classList.contains("hidden")));
  el.classList.remove("hidden");
  if (window.SL.placeRoomCards) window.SL.placeRoomCards();
})();
