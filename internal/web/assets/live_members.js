// Viewer room: membership. The header pill joins the shop's membership
// (or shows the member's tier); in a room for members only, the gate's
// button joins and reloads the room, which then shows its goods.
"use strict";
(function () {
  const SL = window.SL;
  const { t } = SL;
  const root = document.getElementById("live");
  if (!root) return;
  const slug = root.dataset.slug;
  const pill = document.getElementById("member-pill");
  const gateBtn = document.getElementById("gate-join");
  let st = {};
  try { st = JSON.parse(document.getElementById("room-state").textContent) || {}; } catch (e) { /* no state: no gate */ }
  const tierName = (c) => SL.lang === "en" && c.tier.name_en ? c.tier.name_en : c.tier.name;
  const show = (card) => {
    SL.member = !!card; // the buy sheet shows member prices to members
    if (!pill) return;
    pill.textContent = card ? "★ " + tierName(card) : t("加入会员", "Join");
    pill.classList.toggle("is-member", !!card);
    pill.title = card ? t("会员号 ", "No. ") + card.number + " · " + card.points + t(" 积分", " points") : t("加入会员，积分和会员价", "Join: points and member prices");
    pill.dataset.member = card ? "1" : "";
  };
  async function join() {
    if (!SL.loggedIn || !SL.loggedIn()) { SL.openLogin(join); return; }
    try {
      const r = await SL.api("POST", "/api/v1/me/membership", { source: "room:" + slug });
      show(r.card);
      SL.toast(r.joined ? t("欢迎加入！会员号 ", "Welcome! Member No. ") + r.card.number : t("您已是会员", "You are a member already"));
      if (st.locked) setTimeout(() => location.reload(), 600); // now the goods are for you
    } catch (e) {
      if (e.status === 401) { SL.openLogin(join); return; }
      SL.toast(e.message);
    }
  }
  if (pill) pill.addEventListener("click", () => { if (pill.dataset.member) SL.toast(pill.title); else join(); });
  if (gateBtn) gateBtn.addEventListener("click", join);
  show(null);
  if (root.dataset.loggedIn === "1") {
    SL.api("GET", "/api/v1/me/membership").then((v) => show(v.member ? v.card : null)).catch(() => {});
  }
})();
