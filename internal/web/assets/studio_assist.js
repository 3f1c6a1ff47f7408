// Studio → 主播助手: the room's unanswered questions with suggested answers
// that cite the merchant's facts (send one as the host, or mark it answered
// aloud), talking points for the card on screen, and the comments' mood per
// minute. Refreshes every 5 s while the page is visible.
"use strict";
(function () {
  const { h, t, api, toast } = SL;
  const $ = (id) => document.getElementById(id);
  const panel = $("assist");
  if (!panel || $("studio").dataset.host !== "1") return; // moderators: comments only
  let busy = false;

  const chip = (f) => h("span", { class: "fact-chip", title: f.source }, f.label + "：" + f.value);
  const slug = () => $("room-select").value;

  async function reply(q) {
    let text = "@" + q.author + " " + q.suggestion.text;
    if (Array.from(text).length > 100) text = q.suggestion.text;
    text = Array.from(text).slice(0, 100).join("");
    await api("POST", "/api/v1/rooms/" + slug() + "/comments", { text });
    await answered(q);
  }
  async function answered(q) {
    await api("POST", "/api/v1/rooms/" + slug() + "/questions/" + q.comment_id + "/answered");
    refresh();
  }
  const act = (label, cls, fn) => h("button", { class: "btn btn-sm " + cls, type: "button", onclick: async () => { try { await fn(); } catch (e) { toast(e.message); } } }, label);

  function question(q) {
    const s = q.suggestion;
    const bad = s.compliance && s.compliance.verdict === "violation";
    return h("li", { class: "assist-q", dataset: { comment: q.comment_id } },
      h("div", {}, h("b", {}, q.author), " ", h("span", {}, q.text)),
      h("div", { class: "assist-answer" + (bad ? " bad" : "") }, s.text,
        h("span", { class: "muted small" }, " · " + (s.source === "llm" ? t("模型润色", "model") : t("模板", "template")))),
      s.cites.length ? h("div", { class: "fact-chips" }, s.cites.map(chip)) : null,
      h("div", { class: "assist-acts" },
        bad ? h("span", { class: "small form-error" }, t("含违规用语，不能发送", "Breaks a rule; cannot send"))
          : act(t("发送回复", "Send reply"), "btn-primary", () => reply(q)),
        act(t("已口头回答", "Answered aloud"), "btn-ghost", () => answered(q))));
  }

  function mood(points) {
    const last = points.slice(-15);
    const max = Math.max(1, ...last.map((p) => p.pos + p.neg + p.neu));
    const bars = last.map((p) => {
      const col = h("div", { class: "mood-col", title: new Date(p.minute).toLocaleTimeString(SL.lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" }) + " 👍" + p.pos + " 👎" + p.neg + " · " + p.neu });
      for (const [n, cls] of [[p.neg, "neg"], [p.neu, "neu"], [p.pos, "pos"]]) {
        const seg = h("div", { class: "mood-" + cls });
        seg.style.height = Math.round((n / max) * 48) + "px"; // CSSOM, allowed under the CSP
        col.append(seg);
      }
      return col;
    });
    const pos = last.reduce((n, p) => n + p.pos, 0), neg = last.reduce((n, p) => n + p.neg, 0);
    return h("div", {}, h("div", { class: "mood-bars" }, bars.length ? bars : h("span", { class: "muted small" }, t("还没有评论", "No comments yet"))),
      h("div", { class: "small muted" }, t("近15分钟 好评 ", "Last 15 min: positive ") + pos + t("，差评 ", ", negative ") + neg));
  }

  async function refresh() {
    if (busy || document.hidden || !slug()) return;
    busy = true;
    try {
      const v = await api("GET", "/api/v1/rooms/" + slug() + "/assistant");
      const tp = v.talking_points[0];
      panel.replaceChildren(
        h("div", { class: "panel-head" }, h("h2", {}, t("主播助手", "Assistant")),
          h("span", { class: "badge " + (v.mode === "llm" ? "green" : "") }, v.mode === "llm" ? t("模型 + 事实核对", "Model + fact check") : t("离线 · 按商品资料作答", "Offline · from product data"))),
        h("h3", {}, t("待回答的问题", "Unanswered questions"), " ", h("span", { class: "badge amber" }, String(v.questions.length))),
        v.questions.length ? h("ul", { class: "assist-list", id: "assist-questions" }, v.questions.map(question)) : h("p", { class: "muted small" }, t("暂时没有未回答的问题。", "No open questions.")),
        tp ? h("div", { id: "assist-points" }, h("h3", {}, t("讲解要点 · ", "Talking points · ") + tp.name),
          h("ul", { class: "assist-points" }, tp.points.map((p) => h("li", {}, p.text)))) : null,
        h("h3", {}, t("评论情绪", "Comment mood")), mood(v.sentiment));
    } catch (e) { /* the next refresh retries */ }
    busy = false;
  }
  $("room-select").addEventListener("change", () => setTimeout(refresh, 300));
  setTimeout(refresh, 800);
  setInterval(refresh, 5000);
})();
