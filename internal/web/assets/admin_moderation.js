// Admin → 场控 Moderation: the shop's word list (edit, import a .txt or
// .csv file, export both), viewers' open reports and the mutes and bans in
// force. Registered into admin.js's tabs.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};

  SL.adminTabs.moderation = async function (c) {
    const { main, h, t, api, toast, table, toolbar, badge, fmt, show } = c;
    const [w, rs, ms] = await Promise.all([api("GET", "/api/v1/moderation/words"), api("GET", "/api/v1/moderation/reports?status=open"), api("GET", "/api/v1/moderation/restrictions")]);
    const text = w.words.map((x) => (/[,"]/.test(x.term) ? '"' + x.term.replace(/"/g, '""') + '"' : x.term) + (x.action === "mask" ? ",mask" : "")).join("\n");
    const area = h("textarea", { id: "mod-words", rows: "12", spellcheck: "false", placeholder: t("每行一个词；加 ,mask 表示打码而不拦截，如：\n私聊\n傻,mask", "One term a line; add ,mask to mask instead of block, e.g.\nprivate deal\nidiot,mask") }, text);
    const file = h("input", { type: "file", accept: ".txt,.csv,text/plain,text/csv", id: "mod-import", class: "visually-hidden" });
    const reasons = { spam: t("垃圾广告", "Spam"), abuse: t("辱骂", "Abuse"), contact: t("留联系方式", "Contact details"), fraud: t("诈骗", "Fraud"), other: t("其他", "Other") };
    const count = h("span", { class: "muted small", id: "mod-word-count" }, w.words.length + t(" 个词", " words"));

    async function save(body, type) {
      const res = await fetch("/api/v1/moderation/words", { method: "PUT", body, headers: { "Content-Type": type, "X-CSRF-Token": SL.csrf } });
      const d = await res.json();
      if (!res.ok) throw new Error(d.detail || d.title);
      toast(t("词库已保存：", "Word list saved: ") + d.count + t(" 个词", " words"));
      show("moderation");
    }
    const act = (label, cls, fn) => h("button", { class: "btn btn-sm " + (cls || ""), type: "button", onclick: async () => { try { await fn(); } catch (e) { toast(e.message); } } }, label);

    main.replaceChildren(
      toolbar(t("场控", "Moderation")),
      h("section", { class: "card" },
        h("h3", {}, t("本店词库", "Shop word list"), " ", count),
        h("p", { class: "muted small" }, t("观众评论含这些词时被拦截（或打码）。另有所有直播间通用的默认词：", "Viewers' comments with these words are refused (or masked). Every room also refuses the default words: ") + w.defaults.join("、")),
        h("p", { class: "muted small" }, t("另外：留手机号或微信号的评论会被拦截；连续发送垃圾信息（拦截词、链接、重复、联系方式）5 次/10 分钟的观众自动禁言 10 分钟。", "Also: comments with a phone number or WeChat ID are refused; a viewer refused for spam (blocked words, links, repeats, contact details) 5 times in 10 minutes is muted for 10 minutes.")),
        area,
        h("div", { class: "mod-acts" },
          act(t("保存词库", "Save list"), "btn-primary", () => save(area.value, "text/plain; charset=utf-8")),
          h("label", { class: "btn btn-sm btn-ghost" }, t("导入文件（.txt/.csv，替换现有）", "Import a file (.txt/.csv, replaces the list)"), file),
          h("a", { class: "btn btn-sm btn-ghost", href: "/api/v1/moderation/words?format=csv", download: "" }, t("导出 CSV", "Export CSV")),
          h("a", { class: "btn btn-sm btn-ghost", href: "/api/v1/moderation/words?format=txt", download: "" }, t("导出 TXT", "Export TXT")))),
      h("section", { class: "card" }, h("h3", {}, t("待处理举报", "Open reports")),
        rs.reports.length === 0 ? h("p", { class: "muted" }, t("暂无举报。", "No open reports.")) :
          table([t("时间", "Time"), t("直播间", "Room"), t("评论", "Comment"), t("理由", "Reason"), ""],
            rs.reports.map((r) => h("tr", {}, h("td", {}, fmt(r.created_at)), h("td", {}, r.room_slug), h("td", {}, h("b", {}, r.author_name), "：", r.comment_body),
              h("td", {}, (reasons[r.reason] || r.reason) + (r.note ? " · " + r.note : "")),
              h("td", {}, act(t("删除评论", "Remove"), "btn-danger", async () => { await api("POST", "/api/v1/moderation/reports/" + r.id, { decision: "uphold" }); show("moderation"); }), " ",
                act(t("驳回", "Dismiss"), "", async () => { await api("POST", "/api/v1/moderation/reports/" + r.id, { decision: "dismiss" }); show("moderation"); })))))),
      h("section", { class: "card" }, h("h3", {}, t("禁言与封禁", "Mutes and bans")),
        ms.restrictions.length === 0 ? h("p", { class: "muted" }, t("无人被禁言。", "Nobody is muted.")) :
          table([t("观众", "Viewer"), t("范围", "Scope"), t("至", "Until"), t("操作人", "By"), t("理由", "Reason"), ""],
            ms.restrictions.map((m) => h("tr", {}, h("td", {}, m.customer_name || "#" + m.customer_id),
              h("td", {}, badge(m.scope === "merchant" ? t("全店封禁", "Shop ban") : t("禁言 · ", "Muted · ") + m.room_slug, m.scope === "merchant" ? "red" : "amber")),
              h("td", {}, m.until ? fmt(m.until) : t("直到解除", "until lifted")), h("td", {}, m.by), h("td", { class: "small" }, m.reason || ""),
              h("td", {}, act(t("解除", "Unmute"), "", async () => { await api("DELETE", "/api/v1/moderation/restrictions/" + m.id); show("moderation"); })))))));
    file.addEventListener("change", async () => {
      const f = file.files[0];
      if (!f) return;
      try { await save(await f.text(), f.name.toLowerCase().endsWith(".csv") ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8"); } catch (e) { toast(e.message); }
    });
  };
})();
