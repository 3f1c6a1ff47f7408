// Viewer room: the room's pre-sale (以销定产) as a chip under the header —
// "粉丝共创款 已达 73%" with a bar that moves as buyers pay; tap for its page.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  function label(p) {
    if (p.status === "reached") return t("已达成，", "Reached — ships by ") + p.ship_by.slice(0, 10) + t(" 前发货", "");
    if (p.status === "failed") return t("未达成，款项已原路退回", "Not reached — every payment refunded");
    return t("已达 ", "") + p.percent + "%" + t("", " of the minimum");
  }
  function render(p) {
    const el = document.getElementById("presale-chip");
    if (!el) return;
    if (!p) { el.classList.add("hidden"); el.replaceChildren(); if (SL.placeRoomCards) SL.placeRoomCards(); return; }
    el.href = "/presale/" + p.id;
    el.dataset.presale = p.id;
    el.dataset.percent = p.percent;
    el.dataset.status = p.status;
    const bar = h("i", { class: "presale-bar" });
    bar.style.width = Math.min(100, p.percent) + "%";
    el.replaceChildren(
      h("span", { class: "presale-line" }, h("b", {}, p.title), " ", h("span", { class: "presale-pct", id: "presale-pct" }, label(p))),
      h("span", { class: "presale-track" }, bar),
      h("small", { class: "presale-meta" }, p.committed + " / " + p.moq + t(" 件", " units") + " · " + t("去参与 ›", "Join ›")));
    el.classList.toggle("done", p.status !== "open");
    el.classList.remove("hidden");
    if (SL.placeRoomCards) SL.placeRoomCards();
  }
  SL.presale = { update: render };
  try { const st = JSON.parse(document.getElementById("room-state").textContent); if (st.presale) render(st.presale); } catch (e) { /* no state */ }
})();
