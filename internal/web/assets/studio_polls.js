// Studio: ask the room a question (2–6 answers, optional time limit), watch
// the counts, close it. Results are kept (GET /api/v1/rooms/{slug}/polls).
"use strict";
(function () {
  const SL = window.SL;
  const { h, t, api, toast } = SL;
  let slug = "", current = null;

  function render() {
    const box = document.getElementById("poll-panel");
    if (!box) return;
    if (current && current.status === "open") {
      const total = Math.max(1, current.votes);
      box.replaceChildren(
        h("p", {}, h("b", {}, current.question), " ", h("span", { class: "muted small", id: "studio-poll-votes" }, current.votes + t(" 票", " votes"))),
        h("ul", { class: "studio-poll" }, current.options.map((o) => h("li", {}, h("span", {}, o.text), h("meter", { min: "0", max: "100", value: String(Math.round(100 * o.votes / total)) }), h("b", {}, o.votes)))),
        h("button", { class: "btn btn-sm btn-danger", type: "button", id: "poll-close", onclick: async () => {
          try { current = await api("POST", "/api/v1/polls/" + current.id + "/close"); render(); } catch (e) { toast(e.message); }
        } }, t("结束投票", "Close poll")));
      return;
    }
    const q = h("input", { id: "poll-question", maxlength: "80", placeholder: t("问题，如：下一款上什么口味？", "Question, e.g. which flavour next?") });
    const opts = h("input", { id: "poll-options", placeholder: t("选项，用逗号分隔：桂花乌龙，白桃乌龙", "Options, comma-separated: Osmanthus, White peach") });
    const mins = h("input", { id: "poll-minutes", type: "number", min: "0", max: "120", value: "5", "aria-label": t("分钟（0 为手动结束）", "Minutes (0: close by hand)") });
    const last = current ? h("p", { class: "muted small" }, t("上次结果：", "Last result: "), current.question + " — " + current.options.map((o) => o.text + " " + o.votes).join(" · ")) : null;
    box.replaceChildren(last || "",
      h("form", { class: "poll-form", id: "poll-form", onsubmit: async (ev) => {
        ev.preventDefault();
        const options = opts.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
        try { current = await api("POST", "/api/v1/rooms/" + slug + "/polls", { question: q.value, options, minutes: Number(mins.value) }); render(); toast(t("投票已发出", "Poll sent")); }
        catch (e) { toast(e.message); }
      } }, q, opts, h("label", { class: "inline" }, t("分钟", "Minutes"), mins), h("button", { class: "btn btn-primary btn-sm", type: "submit", id: "poll-start" }, t("发起投票", "Ask the room"))));
  }

  SL.studioPolls = {
    async load(roomSlug) {
      slug = roomSlug;
      try { const r = await api("GET", "/api/v1/rooms/" + slug + "/polls"); current = r.polls[0] || null; } catch (e) { current = null; }
      render();
    },
    update(poll) { if (!current || poll.id >= current.id) { current = poll; render(); } },
  };
})();
