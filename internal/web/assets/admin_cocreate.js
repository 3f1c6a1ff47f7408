// Admin → 粉丝共创 (co-creation drafts: results as charts, close, make the
// winning combination a pre-sale) and 预售 (pre-sales to a minimum order:
// open one with MOQ, deadline, deposit or full price; progress, the
// production order's downloads, the supplier webhook). Registered into
// admin.js's tabs.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  const { h, t, yuan } = SL;
  const charts = [];

  // Times are typed and shown in China time whatever the browser's zone.
  const toInput = (d) => new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 16);
  const fromInput = (v) => (v ? new Date(v + ":00+08:00").toISOString() : null);
  const inDays = (n) => toInput(new Date(Date.now() + n * 86400e3));
  const fen = (v) => Math.round(Number(v || 0) * 100);

  // presaleFields are the terms of a pre-sale, shared by the new pre-sale
  // form and the draft's "make it a pre-sale" form.
  function presaleFields(c, d) {
    const { field } = c;
    return [
      field(t("标题", "Title"), "title", d.title || "", { full: true, maxlength: "60", required: !d.fromDraft, placeholder: d.fromDraft ? t("默认：粉丝共创款 + 新品名", "Default: 粉丝共创款 + the draft's name") : "" }),
      field(t("售价（元/件）", "Price (¥ per unit)"), "price", "", { type: "number", step: "0.01", min: "0.01", required: true }),
      field(t("定金（元/件，0 为全款）", "Deposit (¥ per unit, 0: full price)"), "deposit", "0", { type: "number", step: "0.01", min: "0" }),
      field(t("起订量 MOQ（件）", "Minimum order quantity (units)"), "moq", "100", { type: "number", min: "1", required: true }),
      field(t("每人限购", "Per buyer"), "limit", "5", { type: "number", min: "1", max: "99" }),
      field(t("截止时间（北京时间）", "Deadline (Beijing time)"), "deadline", inDays(7), { type: "datetime-local", required: true }),
      field(t("尾款截止（定金预售）", "Balance due (deposit pre-sales)"), "balance_due", inDays(10), { type: "datetime-local" }),
      field(t("承诺发货日期", "Promised ship date"), "ship_by", inDays(30), { type: "datetime-local", required: true }),
      field(t("供应商（生产单抬头）", "Supplier (on the production order)"), "supplier", "", { maxlength: "100" }),
      field(t("说明", "Description"), "description", "", { full: true, textarea: true }),
    ];
  }
  function presaleBody(form) {
    const deposit = fen(form.deposit.value);
    return { title: form.title.value.trim(), description: form.description.value, price_fen: fen(form.price.value), deposit_fen: deposit,
      moq: Number(form.moq.value), per_buyer_limit: Number(form.limit.value) || 0, deadline: fromInput(form.deadline.value),
      balance_due_at: deposit > 0 ? fromInput(form.balance_due.value) : null, ship_by: fromInput(form.ship_by.value), supplier: form.supplier.value };
  }
  const sel = (label, name, options, value) => h("label", {}, label, h("select", { name }, options.map(([v, l]) => h("option", { value: v, selected: String(v) === String(value) }, l))));

  // ---------- 粉丝共创 ----------
  SL.adminTabs.cocreate = async function (c) {
    const { main, api, toast, toolbar, badge, fmt, openModal, field, show } = c;
    const [r, g] = await Promise.all([api("GET", "/api/v1/cocreate-drafts"), api("GET", "/api/v1/groups")]);
    const groupName = (id) => (g.groups.find((x) => x.id === id) || {}).name || "";
    for (const ch of charts.splice(0)) ch.dispose();

    function newDraft() {
      const upload = h("input", { type: "file", accept: "image/*", name: "upload" });
      openModal(t("新建共创新品", "New co-creation draft"), [
        field(t("新品名称", "Name"), "name", "", { required: true, maxlength: "40", placeholder: t("如：青稞冲饮粉", "e.g. Highland barley drink powder") }),
        field(t("产地", "Origin"), "origin", "", { maxlength: "60" }),
        field(t("故事", "Story"), "story", "", { full: true, textarea: true }),
        field(t("选项（每行一组：组名：选项1，选项2…）", "Options (a group per line — name: option 1, option 2…)"), "options", "口味：原味，红枣，黑芝麻\n规格：500g 袋装，30g×10 条", { full: true, textarea: true }),
        sel(t("展示在粉丝群", "Show in the fan group"), "group", [["0", t("不展示", "None")]].concat(g.groups.map((x) => [x.id, x.name])), g.groups.length ? g.groups[0].id : 0),
        field(t("投票截止（可空，北京时间）", "Voting closes (optional, Beijing time)"), "closes", "", { type: "datetime-local" }),
        field(t("关联内测编号（可空）", "Trial id it came from (optional)"), "trial", "", { type: "number", min: "0" }),
        h("label", {}, t("图片", "Photo"), upload),
      ], async (form) => {
        const images = [];
        if (upload.files.length) {
          const fd = new FormData(); fd.append("file", upload.files[0]);
          const res = await fetch("/api/v1/uploads", { method: "POST", body: fd, headers: { "X-CSRF-Token": SL.csrf } });
          const d = await res.json(); if (!res.ok) throw new Error(d.detail || t("上传失败", "Upload failed")); images.push(d.url);
        }
        const groups = form.options.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
          const [name, rest] = l.split(/[:：]/, 2);
          return { name: (name || "").trim(), options: (rest || "").split(/[,，、]/).map((s) => s.trim()).filter(Boolean) };
        });
        await api("POST", "/api/v1/cocreate-drafts", { name: form.name.value, origin: form.origin.value, story: form.story.value, images,
          group_id: Number(form.group.value) || 0, trial_id: Number(form.trial.value) || 0, closes_at: fromInput(form.closes.value), option_groups: groups });
        toast(t("已发布，粉丝可以投票了", "Published: fans can vote now")); show("cocreate");
      });
    }

    function toPresale(d) {
      openModal(t("生成预售：", "Pre-sale from: ") + d.name, [
        h("p", { class: "full small muted" }, t("投票将结束；每组得票最多的选项（并列取靠前的）组成新品，创建商品和预售（粉丝共创款）。", "Voting closes; each group's leading option (the first on a tie) makes the product, created with its pre-sale (fan co-created).")),
        h("p", { class: "full", id: "presale-winner" }, h("b", {}, t("胜出组合：", "Winning combination: ")), d.option_groups.map((x) => {
          const lead = x.options.reduce((a, o) => (o.votes > a.votes ? o : a), x.options[0]);
          return x.name + " " + (lead.votes ? lead.text : "—");
        }).join(" · ")),
        ...presaleFields(c, { fromDraft: true }),
        sel(t("储存方式", "Storage"), "storage", [["ambient", t("常温", "Ambient")], ["chilled", t("冷藏", "Chilled")], ["frozen", t("冷冻", "Frozen")]], "ambient"),
      ], async (form) => {
        const body = presaleBody(form);
        body.storage = form.storage.value;
        const res = await api("POST", "/api/v1/cocreate-drafts/" + d.id + "/presale", body);
        toast(t("预售已开启：", "Pre-sale open: ") + res.presale.title); show("presales");
      });
    }

    // trialNote shows the results of the trial (内测) the draft came from,
    // read from the trials API when it answers (an optional link).
    function trialNote(id) {
      const el = h("p", { class: "small muted cc-trial" }, t("内测 #", "Trial #") + id);
      api("GET", "/api/v1/trials/" + id + "/results").then((x) => {
        const means = Object.entries(x.ratings || {}).filter(([, v]) => v && v.mean).map(([k, v]) => k + " " + v.mean.toFixed(1)).join(" · ");
        el.textContent = t("内测《", "Trial “") + ((x.trial && x.trial.title) || "#" + id) + t("》：", "”: ") + x.responses + t(" 份反馈", " responses") + (means ? " · " + means : "");
      }).catch(() => { /* no such trial, or no trials here: the id stays */ });
      return el;
    }
    const list = h("div", { class: "cc-admin-list" });
    main.replaceChildren(toolbar(t("粉丝共创", "Co-create"), h("button", { class: "btn", type: "button", onclick: () => show("cocreate") }, t("刷新", "Refresh")), " ",
      h("button", { class: "btn btn-primary", type: "button", id: "draft-new", onclick: newDraft }, t("新建共创新品", "New draft"))), list);
    if (!r.drafts.length) list.append(h("p", { class: "muted" }, t("还没有共创新品。新建一个，推送到直播间或粉丝群让粉丝投票。", "No drafts yet. Create one and push it to a room or a fan group for votes.")));
    for (const d of r.drafts) {
      const chartBox = h("div", { class: "cc-chart", id: "cc-chart-" + d.id });
      const cats = [], data = [];
      const palette = ["#7c3aed", "#ea580c", "#0891b2", "#16a34a", "#db2777"];
      d.option_groups.forEach((x, gi) => {
        for (const o of x.options) { cats.push(x.name + " · " + o.text); data.push({ value: o.votes, itemStyle: { color: palette[gi % palette.length] } }); }
      });
      list.append(h("section", { class: "card cc-admin", "data-draft": d.id },
        h("div", { class: "cc-admin-head" }, h("h2", {}, d.name), badge(d.status === "open" ? t("投票中", "Voting") : t("已结束", "Closed"), d.status === "open" ? "green" : ""),
          h("span", { class: "muted small" }, d.voters + t(" 人参与", " fans voted") + (d.group_id ? " · " + t("粉丝群 ", "group ") + groupName(d.group_id) : "") + (d.trial_id ? " · " + t("内测 #", "trial #") + d.trial_id : "") + " · " + fmt(d.created_at)),
          h("span", { class: "cc-admin-actions" },
            d.status === "open" ? h("button", { class: "btn btn-sm", type: "button", onclick: async () => { try { await api("POST", "/api/v1/cocreate-drafts/" + d.id + "/close"); show("cocreate"); } catch (e) { toast(e.message); } } }, t("结束投票", "Close voting")) : null,
            d.presale_id ? h("a", { class: "btn btn-sm", href: "/presale/" + d.presale_id, target: "_blank" }, t("查看预售 ›", "Its pre-sale ›"))
              : h("button", { class: "btn btn-sm btn-primary cc-to-presale", type: "button", onclick: () => toPresale(d) }, t("生成预售", "Make it a pre-sale")))),
        chartBox, d.trial_id ? trialNote(d.trial_id) : null));
      chartBox.style.height = Math.max(120, 28 * cats.length + 40) + "px";
      if (window.echarts) {
        const ch = window.echarts.init(chartBox, null, { renderer: "svg" });
        charts.push(ch);
        ch.setOption({ animation: false, grid: { left: 150, right: 40, top: 8, bottom: 24 }, tooltip: { trigger: "axis" },
          xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", inverse: true, data: cats },
          series: [{ type: "bar", data, label: { show: true, position: "right" }, barMaxWidth: 18 }] });
      }
    }
  };

  // ---------- 预售 ----------
  SL.adminTabs.presales = async function (c) {
    const { main, api, toast, table, toolbar, badge, fmt, openModal, show } = c;
    const [r, prods, rooms, groups] = await Promise.all([api("GET", "/api/v1/presales"), api("GET", "/api/v1/products"), api("GET", "/api/v1/rooms"), api("GET", "/api/v1/groups")]);
    const skus = [];
    for (const p of prods.products) for (const k of p.skus) skus.push([k.id, SL.pname(p) + " · " + k.name + " " + yuan(k.price_fen)]);
    const owner = document.getElementById("admin").dataset.role === "owner";

    function newPresale() {
      openModal(t("新建预售（以销定产）", "New pre-sale (made to order)"), [
        sel(t("商品规格", "SKU"), "sku", skus, skus.length ? skus[0][0] : 0),
        ...presaleFields(c, {}),
        sel(t("直播间（显示进度条）", "Room (shows the progress)"), "room", [["0", t("无", "None")]].concat((rooms.rooms || []).map((x) => [x.id, SL.rtitle(x)])), 0),
        sel(t("粉丝群（显示进度）", "Fan group (shows the progress)"), "group", [["0", t("无", "None")]].concat(groups.groups.map((x) => [x.id, x.name])), 0),
      ], async (form) => {
        const body = presaleBody(form);
        body.sku_id = Number(form.sku.value); body.room_id = Number(form.room.value) || 0; body.group_id = Number(form.group.value) || 0;
        await api("POST", "/api/v1/presales", body);
        toast(t("预售已开启", "Pre-sale open")); show("presales");
      });
    }
    const statusLabel = { open: [t("进行中", "Open"), "amber"], reached: [t("已达成", "Reached"), "green"], failed: [t("未达成·已退款", "Missed · refunded"), "red"] };
    main.replaceChildren(
      toolbar(t("预售（以销定产）", "Pre-sales (made to order)"), h("button", { class: "btn btn-primary", type: "button", id: "presale-new", onclick: newPresale }, t("新建预售", "New pre-sale"))),
      h("p", { class: "muted small" }, t("达到起订量：截止时生成生产单（CSV/Excel 下载），并推送 presale.reached 到", "Reached at the deadline: a production order (CSV/Excel) and presale.reached sent to "),
        owner ? h("a", { href: "#webhooks" }, t("数据推送", "Webhooks")) : t("数据推送（店主设置）", "Webhooks (set by the owner)"),
        t(" 订阅的供应商地址；未达成：全部款项原路自动退回（presale.failed）。", " endpoints the supplier subscribed; missed: every payment refunded automatically (presale.failed).")),
      r.presales.length === 0 ? h("p", { class: "muted" }, t("还没有预售。", "No pre-sales yet.")) :
        table([t("预售", "Pre-sale"), t("价格", "Price"), t("进度", "Progress"), t("截止 / 发货", "Deadline / ships"), t("供应商", "Supplier"), t("状态", "Status"), ""],
          r.presales.map((p) => {
            const meter = h("meter", { min: "0", max: "100", value: String(Math.min(100, p.percent)) });
            return h("tr", { "data-presale": p.id },
              h("td", {}, h("a", { href: "/presale/" + p.id, target: "_blank" }, h("b", {}, p.title)), h("div", { class: "small muted" }, SL.itemName(p) + " · " + p.sku_name)),
              h("td", {}, yuan(p.price_fen), p.deposit_fen ? h("div", { class: "small muted" }, t("定金 ", "Deposit ") + yuan(p.deposit_fen)) : h("div", { class: "small muted" }, t("全款", "Full price"))),
              h("td", {}, meter, " ", h("b", { class: "presale-row-pct" }, p.percent + "%"), h("div", { class: "small muted" }, p.committed + " / " + p.moq + t(" 件 · ", " units · ") + p.buyers + t(" 人", " buyers"))),
              h("td", { class: "small" }, fmt(p.deadline), h("div", { class: "muted" }, t("发货 ", "Ships ") + fmt(p.ship_by))),
              h("td", { class: "small" }, p.supplier || "—"),
              h("td", {}, badge(...(statusLabel[p.status] || [p.status, ""]))),
              h("td", {}, p.status === "reached" ? [h("a", { class: "btn btn-sm", href: "/api/v1/presales/" + p.id + "/production.csv" }, "CSV"), " ",
                h("a", { class: "btn btn-sm", href: "/api/v1/presales/" + p.id + "/production.xlsx" }, "Excel")] : null));
          })));
  };
})();
