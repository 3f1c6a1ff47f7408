// Viewer room: the co-creation draft the host pushed (共创) as a card —
// tap an option to vote in its group, watch the bars move — and the topic
// group the room invites to join (粉丝群) as a chip with a join button.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  const $ = (id) => document.getElementById(id);
  const login = (then) => SL.openLogin(then);
  let card = null;

  async function mineOf(id) {
    if (!SL.loggedIn || !SL.loggedIn()) return;
    try { const r = await SL.api("GET", "/api/v1/cocreate-drafts/" + id); if (card && card.id() === id) card.setMine(r.mine); } catch (e) { /* counts stay */ }
  }

  function update(d) {
    const box = $("cocreate-card");
    if (!box) return;
    if (!d) { box.classList.add("hidden"); box.replaceChildren(); card = null; return; }
    const fresh = !card || card.id() !== d.id;
    if (fresh) {
      box.dataset.shape = "";
      card = SL.cocreateCard.mount(box, d, [], login);
      mineOf(d.id);
    } else card.render(d);
    if (!box.querySelector(".poll-close")) box.prepend(h("button", { class: "poll-close", type: "button", "aria-label": t("收起", "Hide"), onclick: () => box.classList.add("hidden") }, "×"));
    if (fresh || d.status !== "open") box.classList.remove("hidden"); // counts alone do not reopen a card the viewer closed
  }

  function group(g) {
    const el = $("group-card");
    if (!el) return;
    if (!g) { el.classList.add("hidden"); el.replaceChildren(); return; }
    const href = "/groups/" + encodeURIComponent(g.slug) + "?from=" + encodeURIComponent(el.dataset.room || "");
    const join = h("button", { class: "btn btn-sm btn-primary", type: "button", id: "group-card-join", onclick: async function go() {
      if (!SL.loggedIn || !SL.loggedIn()) { login(go); return; }
      join.disabled = true;
      try {
        const r = await SL.api("PUT", "/api/v1/groups/" + encodeURIComponent(g.slug) + "/membership");
        el.querySelector(".group-card-count").textContent = r.group.members + t(" 位成员", " members");
        join.replaceWith(h("a", { class: "btn btn-sm", id: "group-card-joined", href }, t("去看看 ›", "Open ›")));
        SL.toast(t("已加入粉丝群", "You joined the group"));
      } catch (e) { join.disabled = false; SL.toast(e.message); }
    } }, t("加入", "Join"));
    const name = SL.lang === "en" && g.name_en ? g.name_en : g.name;
    el.replaceChildren(h("a", { class: "group-card-text", href }, h("span", { class: "tag" }, t("粉丝群", "Fan group")), h("b", {}, name),
      h("small", { class: "muted group-card-count" }, g.members + t(" 位成员", " members"))), join);
    el.classList.remove("hidden");
  }

  SL.cocreate = { update, group };
  // The page's first state, once live.js (loaded after this file) has set
  // up the login; the socket's snapshot follows and repeats it. The bundle
  // may run after DOMContentLoaded (a room on air runs it after the first
  // video frame): then right after the bundle.
  const first = () => {
    try {
      const st = JSON.parse($("room-state").textContent);
      if (st.cocreate) update(st.cocreate);
      if (st.group) group(st.group);
    } catch (e) { /* no state */ }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", first);
  else setTimeout(first);
})();
