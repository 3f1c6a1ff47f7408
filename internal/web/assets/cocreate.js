// Co-creation (共创) card, shared by the room (live_cocreate.js) and the
// group page (group.js): the draft product, each option group with its
// options as bars that move as fans vote, the fan's own choice marked.
// One vote per option group; tapping another option while it is open
// changes it (the last choice counts).
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;

  // card builds the card's content into box for draft d; mine lists the
  // option ids the fan chose; vote(option) is called on a tap. When the
  // card already shows d in the same state, only the counts and marks
  // change in place: a button replaced between a finger's down and up
  // would swallow the tap.
  function card(box, d, mine, vote) {
    const open = d.status === "open";
    const chosen = new Set(mine || []);
    const shape = d.id + ":" + d.status + ":" + (d.presale_id || 0) + ":" + d.option_groups.map((g) => g.options.map((o) => o.id).join(",")).join(";");
    if (box.dataset.shape === shape) {
      const voters = box.querySelector(".cc-voters");
      if (voters) voters.textContent = d.voters + t(" 人参与", " fans voted");
      for (const g of d.option_groups) {
        const el = box.querySelector('.cc-group[data-group="' + g.id + '"]');
        if (!el) continue;
        el.querySelector(".cc-group-votes").textContent = g.votes + t(" 票", " votes");
        const total = Math.max(1, g.votes);
        const lead = Math.max(...g.options.map((o) => o.votes));
        for (const o of g.options) {
          const b = el.querySelector('[data-option="' + o.id + '"]');
          if (!b) continue;
          const pct = Math.round(100 * o.votes / total);
          b.className = "poll-opt shown" + (chosen.has(o.id) ? " mine" : "") + (o.votes === lead && o.votes > 0 ? " lead" : "");
          b.querySelector(".poll-text").textContent = (chosen.has(o.id) ? "✓ " : "") + o.text;
          b.querySelector(".poll-pct").textContent = pct + "%";
          b.querySelector(".poll-bar").style.width = pct + "%";
        }
      }
      return;
    }
    box.dataset.shape = shape;
    const groups = d.option_groups.map((g) => {
      const total = Math.max(1, g.votes);
      const lead = Math.max(...g.options.map((o) => o.votes));
      return h("div", { class: "cc-group", "data-group": g.id },
        h("div", { class: "cc-group-name" }, h("b", {}, g.name), h("span", { class: "muted small cc-group-votes" }, g.votes + t(" 票", " votes"))),
        h("ul", { class: "poll-options" }, g.options.map((o) => {
          const pct = Math.round(100 * o.votes / total);
          const cls = "poll-opt shown" + (chosen.has(o.id) ? " mine" : "") + (o.votes === lead && o.votes > 0 ? " lead" : "");
          const el = h("li", {}, h("button", { class: cls, type: "button", disabled: !open, "data-option": o.id, onclick: () => vote(o) },
            h("i", { class: "poll-bar" }), h("span", { class: "poll-text" }, (chosen.has(o.id) ? "✓ " : "") + o.text), h("span", { class: "poll-pct" }, pct + "%")));
          el.querySelector(".poll-bar").style.width = pct + "%";
          return el;
        })));
    });
    let foot;
    if (d.presale_id) foot = h("a", { class: "cc-presale", href: "/presale/" + d.presale_id }, t("胜出组合已开启预售：粉丝共创款 ›", "The winning combination is on pre-sale: fan co-created ›"));
    else if (open) foot = h("p", { class: "muted small cc-rule" }, t("每组选一个，截止前可改选，以最后一次为准", "One choice per group; change it until voting closes — the last one counts"));
    else foot = h("p", { class: "muted small cc-rule" }, t("投票已结束", "Voting has closed"));
    box.replaceChildren(...[ // (replaceChildren would print a null)
      h("div", { class: "cc-head" }, h("span", { class: "tag" }, t("粉丝共创", "Co-create")), h("b", { class: "cc-name" }, d.name),
        h("span", { class: "muted small cc-voters" }, d.voters + t(" 人参与", " fans voted"))),
      d.images && d.images.length ? h("img", { class: "cc-photo", src: d.images[0], alt: "" }) : null,
      d.story ? h("p", { class: "cc-story" }, d.story) : null,
      d.origin ? h("p", { class: "muted small" }, t("产地：", "Origin: ") + d.origin) : null,
      ...groups, foot].filter(Boolean));
  }

  // mount keeps one card in box up to date: render(draft) with new counts,
  // votes through the API (login() is asked for first when not logged in).
  function mount(box, d, mine, login) {
    let draft = d, my = mine || [];
    async function vote(o) {
      try {
        const r = await SL.api("POST", "/api/v1/cocreate-drafts/" + draft.id + "/votes", { option_id: o.id });
        draft = r.draft; my = r.mine; card(box, draft, my, vote);
      } catch (e) {
        if (e.status === 401) { login(() => vote(o)); return; }
        SL.toast(e.message);
      }
    }
    const c = {
      id: () => draft.id,
      render(nd) { if (nd.id !== draft.id) { draft = nd; my = []; } else draft = nd; card(box, draft, my, vote); },
      setMine(m) { my = m || []; card(box, draft, my, vote); },
    };
    c.render(draft);
    return c;
  }

  SL.cocreateCard = { mount };
})();
