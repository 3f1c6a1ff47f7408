// Trace page and cold-chain console. The public page draws a lot's
// temperatures along the cold chain with the storage class limits (ECharts,
// vendored) from a JSON block in the page, so it needs no second request and
// no inline script (CSP). The console (/admin/coldchain) lists alarms, draws
// a held lot's evidence and records quality's decision.
"use strict";
(function () {
  const SL = window.SL;
  const t = SL ? SL.t : (zh) => zh;
  const en = SL && SL.lang === "en";
  const pad = (n) => String(n).padStart(2, "0");
  // Times are shown in China time (UTC+8) whatever the device's zone, like
  // the timeline rendered by the server.
  const cst = (v) => new Date(v + 8 * 3600e3);
  const fmtFull = (v) => { const x = cst(v); return pad(x.getUTCMonth() + 1) + "-" + pad(x.getUTCDate()) + " " + pad(x.getUTCHours()) + ":" + pad(x.getUTCMinutes()); };

  let chart = null;
  // drawChart renders series [{name, name_en, points: [[ms, °C]]}] with limits.
  function drawChart(el, d) {
    if (!window.echarts) return;
    el.style.width = "100%";
    // The legend wraps on a phone: the plot starts below its rows.
    const perRow = el.clientWidth < 520 ? 2 : 4;
    const legendRows = Math.max(1, Math.ceil((d.series || []).length / perRow));
    el.style.height = (240 + 22 * legendRows) + "px";
    const lim = d.limits || {};
    const lines = [];
    const line = (v, color, type, label) => { if (v !== undefined && v !== null) lines.push({ yAxis: v, lineStyle: { color, type, width: 1.5 }, label: { formatter: label + " " + v + "℃", color, fontSize: 10, position: "insideEndTop" } }); };
    line(lim.target_min, "#16a34a", "dashed", t("目标", "target"));
    line(lim.target_max, "#16a34a", "dashed", t("目标", "target"));
    line(lim.hard_max, "#f97316", "solid", t("上限", "limit"));
    line(lim.hard_min, "#f97316", "solid", t("下限", "limit"));
    line(lim.critical_max, "#dc2626", "solid", t("临界", "critical"));
    let lo = Infinity, hi = -Infinity, first = Infinity, last = -Infinity;
    const series = (d.series || []).map((s, i) => {
      for (const p of s.points) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); first = Math.min(first, p[0]); last = Math.max(last, p[0]); }
      return {
        name: en && s.name_en ? s.name_en : s.name, type: "line", showSymbol: false, sampling: "lttb", data: s.points,
        lineStyle: { width: 2 }, markLine: i === 0 ? { symbol: "none", silent: true, data: lines } : undefined,
      };
    });
    for (const v of [lim.target_min, lim.target_max, lim.hard_max]) if (v !== undefined && v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!isFinite(lo)) { lo = 0; hi = 10; }
    const longSpan = last - first > 2 * 86400e3;
    const fmt = (v) => { const x = cst(v); return longSpan ? pad(x.getUTCMonth() + 1) + "-" + pad(x.getUTCDate()) : pad(x.getUTCHours()) + ":" + pad(x.getUTCMinutes()); };
    if (chart) chart.dispose();
    chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 36, right: 12, top: 22 * legendRows + 20, bottom: 28 },
      legend: { top: 0, textStyle: { fontSize: 11 } },
      tooltip: { trigger: "axis", valueFormatter: (v) => v + "℃", axisPointer: { label: { formatter: (p) => fmtFull(p.value) } } },
      xAxis: { type: "time", axisLabel: { fontSize: 10, hideOverlap: true, formatter: fmt } },
      yAxis: { type: "value", name: "℃", min: Math.floor(lo - 1), max: Math.ceil(hi + 1), axisLabel: { fontSize: 10 } },
      series,
    });
    el.dataset.ready = "1";
  }
  window.addEventListener("resize", () => chart && chart.resize());

  // ---------- public trace page ----------
  const raw = document.getElementById("trace-data");
  const el = document.getElementById("chart");
  if (raw && el) {
    const d = JSON.parse(raw.textContent);
    const v = document.getElementById("verdict");
    const color = { broken: "#dc2626", on_hold: "#ea580c", gaps: "#ea580c", released: "#ea580c" }[d.verdict];
    if (v && color) v.style.color = color; // CSSOM, allowed by the CSP (no inline style attribute)
    drawChart(el, d);
    return;
  }

  // ---------- quality console ----------
  const root = document.getElementById("cc-console");
  if (!root || !SL) return;
  const h = SL.h;
  const canDecide = root.dataset.canDecide === "true";
  const body = document.querySelector("#cc-alarms tbody");
  const filter = document.getElementById("cc-filter");
  const ruleText = { critical: t("超临界值", "Critical"), cumulative: t("超限累计超时", "Too long beyond limit"), gap: t("数据缺失", "No data") };
  const statusText = { open: t("进行中", "Ongoing"), cleared: t("已恢复·待复核", "Back in range · review"), resolved: t("已处理", "Done") };
  const decisionText = { release: t("已放行", "Released"), destroy: t("已销毁", "Destroyed") };
  let selected = null; // {alarm, lot}

  async function load() {
    let data;
    try { data = await SL.api("GET", "/api/v1/coldchain/alarms" + (filter.value ? "?status=" + filter.value : "")); } catch (e) { SL.toast(e.message); return; }
    const list = data.alarms || [];
    document.getElementById("cc-empty").classList.toggle("hidden", list.length > 0);
    body.replaceChildren(...list.map((a) => h("tr", { dataset: { alarm: a.id } },
      h("td", { class: "nowrap" }, SL.fmtTime(a.started_at)),
      h("td", {}, a.location_name, h("div", { class: "muted small" }, a.device_id)),
      h("td", { class: "nowrap" }, ruleText[a.rule] || a.rule),
      h("td", { class: "nowrap" }, a.kind === "excursion" ? a.peak.toFixed(1) + "℃" : "—"),
      h("td", { class: "nowrap" }, a.decision ? decisionText[a.decision] : statusText[a.status] || a.status),
      h("td", { class: "cc-lots" }, (a.lots || []).map((l) => h("button", { class: "btn btn-sm", type: "button", dataset: { lot: l.lot_id }, onclick: () => show(a, l) },
        l.product + " " + l.lot_code + (l.held ? " · " + t("暂停销售", "on hold") : "")))),
      h("td", {}, a.kind === "excursion" && !a.decision && canDecide ? decideButtons(a) : null))));
    if (selected) {
      const a = list.find((x) => x.id === selected.alarm.id);
      if (a) show(a, selected.lot);
    }
  }

  function decideButtons(a) {
    return h("span", { class: "card-actions" },
      h("button", { class: "btn btn-sm btn-primary", type: "button", dataset: { release: a.id }, disabled: a.status === "open", title: a.status === "open" ? t("温度恢复后才能放行", "Release once back in range") : "", onclick: () => decide(a, "release") }, t("放行", "Release")),
      h("button", { class: "btn btn-sm btn-danger", type: "button", dataset: { destroy: a.id }, onclick: () => decide(a, "destroy") }, t("销毁", "Destroy")));
  }

  async function decide(a, decision) {
    const q = decision === "release" ? t("确认放行？批次将恢复销售。", "Release? The lots go back on sale.") : t("确认销毁？批次库存将报废。", "Destroy? The lots' stock is written off.");
    if (!window.confirm(q)) return;
    const note = window.prompt(t("复核备注（可选）", "Review note (optional)"), "") || "";
    try {
      await SL.api("POST", "/api/v1/coldchain/alarms/" + a.id + "/resolve", { decision, note });
      SL.toast(decision === "release" ? t("已放行，并记录 EPCIS 事件", "Released; EPCIS event recorded") : t("已销毁，并记录 EPCIS 事件", "Destroyed; EPCIS event recorded"));
    } catch (e) { SL.toast(e.message); }
    load();
  }

  async function show(a, l) {
    selected = { alarm: a, lot: l };
    let rep;
    try { rep = await SL.api("GET", "/api/v1/coldchain/lots/" + l.lot_id + "/evidence"); } catch (e) { SL.toast(e.message); return; }
    const box = document.getElementById("cc-evidence");
    box.classList.remove("hidden");
    document.getElementById("cc-ev-title").textContent = l.product + " · " + l.lot_code;
    const x = rep.exposure;
    document.getElementById("cc-ev-stats").textContent = x.samples ? t("平均动力学温度 ", "MKT ") + x.mkt.toFixed(1) + "℃ · " + t("最低 ", "min ") + x.min.toFixed(1) + "℃ · " + t("最高 ", "max ") + x.max.toFixed(1) + "℃ · " +
      t("超限 ", "beyond limit ") + Math.round(x.beyond_ms / 60000) + t(" 分钟 · 目标外 ", " min · out of target ") + Math.round(x.out_target_ms / 60000) + t(" 分钟 · 无数据 ", " min · no data ") + Math.round(x.unknown_ms / 60000) + t(" 分钟", " min") : t("暂无读数", "No readings");
    drawChart(document.getElementById("chart"), { limits: rep.limits, series: (rep.stays || []).map((s) => ({ name: s.location, name_en: s.location_en, points: s.points })) });
    let link = {};
    try { link = await SL.api("GET", "/api/v1/coldchain/lots/" + l.lot_id + "/trace-link"); } catch (e) { /* the page still works */ }
    const q = "?lot_id=" + l.lot_id;
    document.getElementById("cc-actions").replaceChildren(
      link.path ? h("a", { class: "btn btn-sm", href: link.path, target: "_blank", rel: "noopener" }, t("公开溯源页", "Public trace page")) : null,
      link.qr ? h("a", { class: "btn btn-sm", href: link.qr, target: "_blank", rel: "noopener" }, t("溯源二维码", "Trace QR")) : null,
      h("a", { class: "btn btn-sm", href: "/api/v1/coldchain/exports/purchases.csv" + q }, t("进货查验记录", "Purchase records")),
      h("a", { class: "btn btn-sm", href: "/api/v1/coldchain/exports/sales.csv" + q }, t("销售记录", "Sales records")),
      h("a", { class: "btn btn-sm", href: "/api/v1/coldchain/exports/fsma204.xlsx" + q }, "FSMA 204 (XLSX)"));
  }

  // ---------- locations and sensors ----------
  const kindText = {};
  document.querySelectorAll("#loc-kind option").forEach((o) => { kindText[o.value] = o.textContent.split(" · ")[0]; });
  const classText = { chilled: t("冷藏", "Chilled"), frozen: t("冷冻", "Frozen"), ambient: t("常温", "Ambient") };
  let storeNames = {};
  async function loadSetup() {
    let locs, devs, stores;
    try {
      [locs, devs, stores] = await Promise.all([SL.api("GET", "/api/v1/coldchain/locations"), SL.api("GET", "/api/v1/coldchain/devices"), SL.api("GET", "/api/v1/stores")]);
    } catch (e) { SL.toast(e.message); return; }
    storeNames = {};
    for (const s of stores.stores || []) storeNames[s.id] = s.name;
    const perLoc = {};
    for (const d of devs.devices || []) (perLoc[d.location_id] = perLoc[d.location_id] || []).push(d.device_id);
    const list = locs.locations || [];
    document.querySelector("#cc-locations tbody").replaceChildren(...list.map((l) => h("tr", { dataset: { location: l.id } },
      h("td", {}, SL.lang === "en" && l.name_en ? l.name_en : l.name),
      h("td", { class: "nowrap" }, kindText[l.kind] || l.kind),
      h("td", { class: "nowrap" }, classText[l.storage_class] || l.storage_class),
      h("td", {}, l.store_id ? storeNames[l.store_id] || "#" + l.store_id : h("span", { class: "mono small" }, l.gln || "")),
      h("td", { class: "small" }, (perLoc[l.id] || []).join(", ") || "—"))));
    const storeSel = document.getElementById("loc-store");
    if (storeSel && storeSel.options.length <= 1) {
      for (const s of stores.stores || []) storeSel.append(h("option", { value: String(s.id) }, s.name));
    }
    const locSel = document.getElementById("dev-location");
    if (locSel) {
      const keep = locSel.value;
      locSel.replaceChildren(...list.map((l) => h("option", { value: String(l.id) }, l.name + " · " + (kindText[l.kind] || l.kind))));
      if (keep) locSel.value = keep;
    }
  }
  const formError = (id, e) => { const el = document.getElementById(id); el.textContent = e ? e.message : ""; el.classList.toggle("hidden", !e); };
  const locForm = document.getElementById("loc-form");
  if (locForm) locForm.addEventListener("submit", async (ev) => {
    ev.preventDefault(); formError("loc-error", null);
    const v = (id) => document.getElementById(id).value.trim();
    const body = { name: v("loc-name"), name_en: v("loc-name-en"), kind: v("loc-kind"), storage_class: v("loc-class"), store_id: Number(v("loc-store")) || 0, gln: v("loc-gln") };
    try {
      const l = await SL.api("POST", "/api/v1/coldchain/locations", body);
      locForm.reset();
      await loadSetup();
      document.getElementById("dev-location").value = String(l.id);
      SL.toast(t("已添加位置", "Location added"));
    } catch (e) { formError("loc-error", e); }
  });
  const devForm = document.getElementById("dev-form");
  if (devForm) devForm.addEventListener("submit", async (ev) => {
    ev.preventDefault(); formError("dev-error", null);
    const body = { device_id: document.getElementById("dev-key").value.trim(), name: document.getElementById("dev-name").value.trim(), location_id: Number(document.getElementById("dev-location").value) };
    try {
      const d = await SL.api("POST", "/api/v1/coldchain/devices", body);
      document.getElementById("dev-token").textContent = d.token;
      document.getElementById("dev-topic").textContent = d.mqtt_topic;
      document.getElementById("dev-created").classList.remove("hidden");
      document.getElementById("dev-key").value = ""; document.getElementById("dev-name").value = "";
      loadSetup();
    } catch (e) { formError("dev-error", e); }
  });

  filter.addEventListener("change", () => { selected = null; load(); });
  load();
  loadSetup();
  SL.connect(["staff:" + root.dataset.merchant], { event: (topic, type) => { if (type === "coldchain.alarm") load(); } });
})();
