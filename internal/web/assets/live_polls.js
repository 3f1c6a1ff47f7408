// Viewer room: the host's poll as a card — tap an option to vote (once),
// then watch the bars move; the result stays a while after it closes.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  let current = null, mine = 0, hideTimer = 0;
  const voted = () => { try { return JSON.parse(localStorage.getItem("sl_polls") || "{}"); } catch (e) { return {}; } };
  const remember = (pollID, opt) => { const v = voted(); v[pollID] = opt; try { localStorage.setItem("sl_polls", JSON.stringify(v)); } catch (e) { /* private mode */ } };

  async function vote(opt) {
    if (!SL.loggedIn || !SL.loggedIn()) { SL.openLogin(() => vote(opt)); return; }
    try {
      const r = await SL.api("POST", "/api/v1/polls/" + current.id + "/vote", { option_id: opt.id });
      mine = opt.id; remember(current.id, opt.id); render(r.poll);
    } catch (e) {
      if (e.status === 401) { SL.openLogin(() => vote(opt)); return; }
      if (e.code === "poll_already_voted") { mine = mine || -1; remember(current.id, mine); render(current); }
      SL.toast(e.message);
    }
  }

  function render(poll) {
    const box = document.getElementById("poll");
    clearTimeout(hideTimer);
    if (!poll) { box.classList.add("hidden"); box.replaceChildren(); current = null; return; }
    if (!current || current.id !== poll.id) mine = voted()[poll.id] || 0;
    current = poll;
    const open = poll.status === "open";
    const showBars = !open || mine !== 0;
    const total = Math.max(1, poll.votes);
    const lead = Math.max(...poll.options.map((o) => o.votes));
    box.replaceChildren(
      h("div", { class: "poll-head" }, h("b", {}, open ? t("投票", "Poll") : t("投票结果", "Poll result")),
        h("span", { class: "muted", id: "poll-count" }, poll.votes + t(" 人参与", " votes")),
        h("button", { class: "poll-close", type: "button", "aria-label": t("收起", "Hide"), onclick: () => box.classList.add("hidden") }, "×")),
      h("p", { class: "poll-q" }, poll.question),
      h("ul", { class: "poll-options" }, poll.options.map((o) => {
        const pct = Math.round(100 * o.votes / total);
        const cls = "poll-opt" + (showBars ? " shown" : "") + (o.id === mine ? " mine" : "") + (showBars && o.votes === lead && o.votes > 0 ? " lead" : "");
        const el = h("li", {}, h("button", { class: cls, type: "button", disabled: !open || mine !== 0, "data-option": o.id, onclick: () => vote(o) },
          h("i", { class: "poll-bar" }), h("span", { class: "poll-text" }, o.text), showBars ? h("span", { class: "poll-pct" }, pct + "%") : null));
        el.querySelector(".poll-bar").style.width = (showBars ? pct : 0) + "%";
        return el;
      })));
    box.classList.remove("hidden");
    if (!open) hideTimer = setTimeout(() => box.classList.add("hidden"), 60000);
  }

  SL.polls = { update: render };
  // The page's first state (the socket's snapshot follows and repeats it).
  try { const st = JSON.parse(document.getElementById("room-state").textContent); if (st.poll) render(st.poll); } catch (e) { /* no state */ }
})();
