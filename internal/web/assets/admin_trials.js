// Admin → 内测 Trials: open a new-product trial (sample SKU, quota, window,
// the application form, audience, pickup or delivery, selection rule),
// select early, and read the results with charts (ECharts, loaded on
// first use): ratings per dimension, response rate, the form's choices,
// the testers' words and the applications. Registered into admin.js's tabs.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  const dims = [["taste", "口味", "Taste"], ["texture", "口感", "Texture"], ["price", "价格接受度", "Price willingness"], ["repurchase", "会购买吗", "Would buy"]];

  let echartsLoading = null;
  function loadECharts() {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!echartsLoading) {
      echartsLoading = new Promise((ok, fail) => {
        const s = document.createElement("script");
        s.src = document.getElementById("admin").dataset.echarts;
        s.onload = () => ok(window.echarts);
        s.onerror = () => fail(new Error("echarts"));
        document.head.appendChild(s);
      });
    }
    return echartsLoading;
  }

  SL.adminTabs.trials = async function (c) {
    const { main, h, t, api, toast, table, toolbar, badge, fmt } = c;
    const q = new URLSearchParams(location.hash.split("?")[1] || "");
    if (q.get("id")) return results(c, Number(q.get("id")));
    const r = await api("GET", "/api/v1/trials");
    const act = (label, cls, fn, id) => h("button", { class: "btn btn-sm " + (cls || ""), type: "button", id, onclick: async () => {
      try { await fn(); } catch (e) { toast(e.message); }
    } }, label);
    main.replaceChildren(
      toolbar(t("新品内测", "Product trials"), act(t("新建内测", "New trial"), "btn-primary", () => form(c), "trial-new")),
      h("p", { class: "muted small" }, t("免费样品换真实反馈：粉丝在内测页申请，截止后按公开承诺的种子公平抽选，入选者自动获得 0 元样品订单，领取后填写评分与意见。",
        "Free samples for honest feedback: fans apply on the trial's page; when applications close a seed committed in public picks fairly; the chosen get a zero-price sample order and rate it once they have it.")),
      r.trials.length === 0 ? h("p", { class: "muted" }, t("还没有内测。", "No trials yet.")) :
        table([t("内测", "Trial"), t("样品", "Sample"), t("名额", "Quota"), t("申请", "Applied"), t("入选", "Chosen"), t("截止", "Closes"), t("状态", "Status"), ""],
          r.trials.map((x) => h("tr", { "data-trial": x.id },
            h("td", {}, h("a", { href: "/trials/" + x.id, target: "_blank", rel: "noopener" }, h("b", {}, x.title))),
            h("td", {}, SL.itemName(x) + " · " + x.sku_name), h("td", {}, x.quota), h("td", {}, x.applicants), h("td", {}, x.chosen),
            h("td", {}, fmt(x.closes_at)),
            h("td", {}, x.status === "open" ? badge(t("申请中", "Open"), "amber") : badge(t("已抽选", "Selected"), "green")),
            h("td", {},
              x.status === "open" ? act(t("立即抽选", "Select now"), "", async () => {
                if (!confirm(t("立即截止申请并抽选？", "Close applications now and select?"))) return;
                await api("POST", "/api/v1/trials/" + x.id + "/select"); toast(t("已抽选，样品订单已生成", "Selected; sample orders placed")); SL.admin.show("trials");
              }) : null, " ",
              h("a", { class: "btn btn-sm", href: "#trials?id=" + x.id }, t("结果", "Results")))))));
  };

  async function form(c) {
    const { main, h, t, api, toast, toolbar } = c;
    const [prods, stores, groups, rooms] = await Promise.all([api("GET", "/api/v1/products"), api("GET", "/api/v1/stores"),
      api("GET", "/api/v1/groups").catch(() => ({ groups: [] })), api("GET", "/api/v1/rooms").catch(() => ({ rooms: [] }))]);
    const opt = (v, l) => h("option", { value: v }, l);
    const sku = h("select", { name: "sku_id", required: true }, prods.products.flatMap((p) => p.skus.map((k) => opt(k.id, SL.pname(p) + " · " + k.name + " · " + SL.yuan(k.price_fen)))));
    const store = h("select", { name: "store_id" }, stores.stores.map((s) => opt(s.id, SL.sname(s))));
    const fulfil = h("select", { name: "fulfilment", onchange: () => { store.disabled = fulfil.value !== "pickup"; } }, opt("pickup", t("到店自提", "Store pickup")), opt("delivery", t("配送到家", "Delivery")));
    const group = h("select", { name: "group_id" }, opt("", t("不关联", "None")), groups.groups.map((g) => opt(g.id, g.name)));
    const audience = h("select", { name: "audience" }, opt("", t("所有粉丝", "Everyone")), opt("group", t("仅所选粉丝群成员", "Members of the chosen group only")), opt("members", t("仅会员", "Members only")));
    const rule = h("select", { name: "selection" }, opt("random", t("全部随机", "All at random")), opt("group_first", t("粉丝群成员优先，其余随机", "Group members first, then at random")));
    const room = h("select", { name: "room_id" }, opt("", t("不关联", "None")), rooms.rooms.filter((x) => x.status !== "ended").map((x) => opt(x.id, SL.rtitle(x))));
    const closes = new Date(Date.now() + 3 * 86400e3 + 8 * 3600e3).toISOString().slice(0, 16);
    const qs = h("div", { id: "trial-questions" });
    const addQ = (label, kind, options, required) => {
      const row = h("div", { class: "trial-qrow" },
        h("input", { name: "q_label", placeholder: t("问题，如：家里几口人？", "Question, e.g. How many at home?"), value: label || "", maxlength: 60 }),
        h("select", { name: "q_kind" }, h("option", { value: "choice", selected: kind === "choice" }, t("单选", "Choice")), h("option", { value: "text", selected: kind === "text" }, t("文字", "Text"))),
        h("input", { name: "q_options", placeholder: t("选项，用逗号分隔", "Options, comma separated"), value: options || "" }),
        h("label", { class: "inline" }, h("input", { type: "checkbox", name: "q_required", checked: !!required }), t("必答", "Required")),
        h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => row.remove() }, "×"));
      qs.appendChild(row);
    };
    addQ(t("家里几口人？", "How many at home?"), "choice", "1, 2-3, 4+", true);
    addQ(t("为什么想试？", "Why do you want to try it?"), "text", "", false);
    addQ(t("有没有过敏或忌口？", "Any allergies or foods you avoid?"), "text", "", false);
    const err = h("p", { class: "form-error hidden", role: "alert" });
    const lab = (text, el) => h("label", {}, text, el);
    const f = h("form", { class: "card trial-admin-form", id: "trial-form", onsubmit: async (ev) => {
      ev.preventDefault();
      err.classList.add("hidden");
      const questions = [...qs.querySelectorAll(".trial-qrow")].map((row) => ({
        label: row.querySelector("[name=q_label]").value, kind: row.querySelector("[name=q_kind]").value,
        options: row.querySelector("[name=q_kind]").value === "choice" ? row.querySelector("[name=q_options]").value.split(/[,，]/).map((s) => s.trim()).filter(Boolean) : undefined,
        required: row.querySelector("[name=q_required]").checked })).filter((x) => x.label.trim());
      const body = { title: f.title.value, description: f.description.value, sku_id: Number(sku.value), quota: Number(f.quota.value),
        closes_at: new Date(f.closes.value + ":00+08:00").toISOString(), questions, fulfilment: fulfil.value, selection: rule.value,
        feedback_days: Number(f.feedback_days.value), public_result: f.public_result.checked };
      if (fulfil.value === "pickup") body.store_id = Number(store.value);
      if (group.value) body.group_id = Number(group.value);
      if (room.value) body.room_id = Number(room.value);
      if (audience.value === "group" && group.value) body.segment = { kind: "fan_group", group_id: Number(group.value) };
      if (audience.value === "members") body.segment = { kind: "members" };
      try {
        const tr = await api("POST", "/api/v1/trials", body);
        toast(t("内测已开始，抽选承诺已公布", "Trial open; the commitment is public"));
        location.hash = "trials?id=" + tr.id;
      } catch (e) { err.textContent = e.message; err.classList.remove("hidden"); }
    } },
      h("div", { class: "grid-2" },
        lab(t("标题", "Title"), h("input", { name: "title", required: true, maxlength: 40, placeholder: t("如：低糖酸奶新品内测", "e.g. Low-sugar yoghurt trial") })),
        lab(t("试用样品（商品规格）", "Sample (SKU)"), sku),
        lab(t("名额（份）", "Places"), h("input", { name: "quota", type: "number", min: 1, max: 1000, value: 20, required: true })),
        lab(t("申请截止（北京时间）", "Applications close (Beijing time)"), h("input", { name: "closes", type: "datetime-local", value: closes, required: true })),
        lab(t("领取方式", "How testers get it"), fulfil), lab(t("自提门店", "Pickup store"), store),
        lab(t("关联粉丝群", "Topic group"), group), lab(t("谁可以申请", "Who may apply"), audience),
        lab(t("抽选规则", "Selection rule"), rule), lab(t("在直播间展示", "Show in room"), room),
        lab(t("领取后几天提醒反馈", "Remind after (days)"), h("input", { name: "feedback_days", type: "number", min: 1, max: 30, value: 3 })),
        h("label", { class: "inline" }, h("input", { type: "checkbox", name: "public_result" }), t("公开试用结果（评分与回收率）", "Publish the results (ratings, response rate)"))),
      lab(t("介绍", "Description"), h("textarea", { name: "description", rows: 2, maxlength: 1000 })),
      h("h2", {}, t("申请表", "Application form")),
      qs,
      h("button", { class: "btn btn-sm", type: "button", onclick: () => addQ("", "text", "", false) }, t("＋ 添加问题", "+ Add a question")),
      err,
      h("div", { class: "admin-toolbar" }, h("span"), h("button", { class: "btn btn-primary", type: "submit", id: "trial-create" }, t("开始内测", "Open the trial"))));
    main.replaceChildren(toolbar(t("新建内测", "New trial"), h("a", { class: "btn", href: "#trials" }, t("返回", "Back"))), f);
  }

  async function results(c, id) {
    const { main, h, t, api, table, toolbar, badge, fmt } = c;
    const r = await api("GET", "/api/v1/trials/" + id + "/results");
    const tr = r.trial;
    r.texts = r.texts || []; r.answers = r.answers || []; r.choices = r.choices || {};
    const pct = (x) => Math.round(x * 1000) / 10 + "%";
    const stat = (label, value, sub) => h("div", { class: "trial-stat" }, h("small", {}, label), h("b", {}, value), sub ? h("small", { class: "muted" }, sub) : null);
    const qLabel = {}; for (const x of tr.questions) qLabel[x.id] = x.label;
    const charts = h("div", { class: "trial-charts" },
      h("div", { class: "card" }, h("h2", {}, t("评分分布", "Ratings")), h("div", { class: "trial-chart", id: "trial-chart-ratings" })),
      h("div", { class: "card" }, h("h2", {}, t("反馈回收率", "Response rate")), h("div", { class: "trial-chart", id: "trial-chart-rate" })));
    const choiceCharts = Object.keys(r.choices || {}).map((qid) => h("div", { class: "card" }, h("h2", {}, qLabel[qid] || qid), h("div", { class: "trial-chart small-chart", id: "trial-chart-" + qid })));
    main.replaceChildren(
      toolbar(tr.title, h("a", { class: "btn", href: "/trials/" + tr.id, target: "_blank", rel: "noopener" }, t("内测页", "Trial page")), " ", h("a", { class: "btn", href: "#trials" }, t("返回", "Back"))),
      h("p", { class: "muted small" }, SL.itemName(tr) + " · " + tr.sku_name + " · " + (tr.status === "open" ? t("申请中，截止 ", "open until ") + fmt(tr.closes_at) : t("已抽选 ", "selected ") + fmt(tr.selected_at)),
        " · ", t("抽选承诺 ", "commitment "), h("code", { class: "mono" }, tr.commitment.slice(0, 16) + "…")),
      h("div", { class: "trial-stats", id: "trial-stats" },
        stat(t("申请", "Applied"), r.applicants, r.excluded ? t("排除 ", "excluded ") + r.excluded : ""), stat(t("入选", "Chosen"), r.chosen, t("名额 ", "of ") + tr.quota),
        stat(t("已领取", "Received"), r.received), stat(t("反馈", "Responses"), r.responses), stat(t("回收率", "Response rate"), pct(r.response_rate)),
        ...dims.map(([d, zh, en]) => stat(t(zh, en), r.ratings[d] && r.ratings[d].mean ? r.ratings[d].mean.toFixed(1) : "—", t("平均分", "mean")))),
      charts,
      choiceCharts.length ? h("div", { class: "trial-charts" }, choiceCharts) : null,
      h("h2", {}, t("试用者说", "What testers wrote")),
      r.texts.length === 0 ? h("p", { class: "muted" }, t("还没有文字反馈。", "No written feedback yet.")) :
        h("ul", { class: "trial-texts", id: "trial-texts" }, r.texts.map((x) => h("li", { class: "card" }, h("p", {}, "“" + x.text + "”"),
          h("small", { class: "muted" }, x.name + " · " + fmt(x.created_at) + " · " + dims.map(([d, zh, en]) => t(zh, en) + " " + x.ratings[d]).join(" / "))))),
      h("h2", {}, t("申请记录", "Applications")),
      table([t("申请者", "Applicant"), t("时间", "Applied"), ...tr.questions.map((x) => x.label), t("结果", "Result"), t("样品订单", "Sample order")],
        (r.answers || []).map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, fmt(a.applied_at)), ...tr.questions.map((x) => h("td", { class: "small" }, (a.answers || {})[x.id] || "—")),
          h("td", {}, a.position ? badge(t("入选 #", "Chosen #") + a.position, "green") : a.excluded ? badge(t("已排除", "Excluded") + " · " + a.excluded, "red") : tr.status === "open" ? "—" : t("未入选", "Not chosen")),
          h("td", {}, a.order_id ? h("a", { href: "#orders" }, "#" + a.order_id) : "—")))));

    const ec = await loadECharts();
    const mk = (id) => { const el = document.getElementById(id); return el ? ec.init(el, null, { renderer: "svg" }) : null; };
    const colors = ["#ef4444", "#f97316", "#eab308", "#84cc16", "#16a34a"];
    const ratings = mk("trial-chart-ratings");
    if (ratings) ratings.setOption({
      animation: false, grid: { left: 110, right: 20, top: 30, bottom: 24 }, legend: { top: 0 }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: dims.map(([, zh, en]) => t(zh, en)), inverse: true },
      series: [1, 2, 3, 4, 5].map((n) => ({ name: n + t(" 分", ""), type: "bar", stack: "all", itemStyle: { color: colors[n - 1] },
        data: dims.map(([d]) => (r.ratings[d] ? r.ratings[d].counts[n - 1] : 0)) })),
    });
    const rate = mk("trial-chart-rate");
    if (rate) rate.setOption({
      animation: false, tooltip: { trigger: "item" }, legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["50%", "72%"], label: { show: true, position: "center", formatter: () => pct(r.response_rate), fontSize: 22, fontWeight: "bold" },
        data: [{ name: t("已反馈", "Answered"), value: r.responses, itemStyle: { color: "#7c3aed" } }, { name: t("未反馈", "Not yet"), value: Math.max(0, r.received - r.responses), itemStyle: { color: "#e2e8f0" } }] }],
    });
    for (const qid of Object.keys(r.choices || {})) {
      const ch = mk("trial-chart-" + qid);
      const opts = Object.keys(r.choices[qid]);
      if (ch) ch.setOption({ animation: false, grid: { left: 60, right: 20, top: 10, bottom: 24 }, tooltip: {}, xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: opts, inverse: true }, series: [{ type: "bar", data: opts.map((o) => r.choices[qid][o]), itemStyle: { color: "#7c3aed" } }] });
    }
  }
})();
