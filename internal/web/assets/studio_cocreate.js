// Studio: push a co-creation draft (共创) into the room — viewers vote on
// its card, the counts show here as they move — and invite the room to
// join a topic group (粉丝群 card). Drafts are made in /admin → 粉丝共创.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t, api, toast } = SL;
  let slug = "", drafts = [], groups = [], live = null;

  function summary(d) {
    return d.name + " · " + d.voters + t(" 人参与", " fans") + " — " + d.option_groups.map((g) => {
      const lead = g.options.reduce((a, o) => (o.votes > a.votes ? o : a), g.options[0]);
      return g.name + " " + (lead.votes ? lead.text : "—");
    }).join(" · ");
  }

  function render() {
    const box = document.getElementById("cocreate-panel");
    if (!box) return;
    const dsel = h("select", { id: "cocreate-draft", "aria-label": t("共创新品", "Draft") }, drafts.map((d) => h("option", { value: d.id }, d.name)));
    const gsel = h("select", { id: "cocreate-group", "aria-label": t("粉丝群", "Fan group") }, groups.map((g) => h("option", { value: g.slug }, g.name)));
    box.replaceChildren(
      live ? h("p", { class: "small", id: "cocreate-live" }, h("b", {}, t("直播间共创卡：", "In the room: ")), summary(live)) : "",
      drafts.length ? h("div", { class: "row-form" }, dsel, h("button", { class: "btn btn-sm btn-primary", type: "button", id: "cocreate-push", onclick: async () => {
        try { live = await api("POST", "/api/v1/cocreate-drafts/" + dsel.value + "/push", { room: slug }); render(); toast(t("共创卡已推送", "Draft card pushed")); } catch (e) { toast(e.message); }
      } }, t("推送共创卡", "Push the draft"))) : h("p", { class: "muted small" }, t("没有进行中的共创（在管理后台 → 粉丝共创 新建）", "No open draft (create one in Admin → Co-create)")),
      groups.length ? h("div", { class: "row-form" }, gsel, h("button", { class: "btn btn-sm", type: "button", id: "group-card-push", onclick: async () => {
        try { await api("POST", "/api/v1/rooms/" + slug + "/group-card", { group: gsel.value }); toast(t("粉丝群卡片已推送", "Group card pushed")); } catch (e) { toast(e.message); }
      } }, t("邀请加入粉丝群", "Invite to the group"))) : "");
  }

  SL.studioCocreate = {
    async load(roomSlug) {
      slug = roomSlug;
      try {
        const [d, g] = await Promise.all([api("GET", "/api/v1/cocreate-drafts?status=open"), api("GET", "/api/v1/groups")]);
        drafts = d.drafts; groups = g.groups;
      } catch (e) { drafts = []; groups = []; }
      render();
    },
    update(d) { if (live && d.id === live.id) { live = d; render(); } },
  };
})();
