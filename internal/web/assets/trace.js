// Trace page: draws the lot's temperatures along the cold chain with the
// storage class limits (ECharts, vendored). The data is a JSON block in the
// page, so the chart needs no second request and no inline script (CSP).
"use strict";
(function () {
  const el = document.getElementById("chart");
  const raw = document.getElementById("trace-data");
  if (!el || !raw || !window.echarts) return;
  const d = JSON.parse(raw.textContent);
  const t = window.SL ? window.SL.t : (zh) => zh;
  const en = window.SL && window.SL.lang === "en";
  el.style.width = "100%";
  el.style.height = "260px";
  const lim = d.limits || {};
  const lines = [];
  const line = (v, color, type, label) => { if (v !== undefined && v !== null) lines.push({ yAxis: v, lineStyle: { color, type, width: 1.5 }, label: { formatter: label + " " + v + "℃", color, fontSize: 10, position: "insideEndTop" } }); };
  line(lim.target_min, "#16a34a", "dashed", t("目标", "target"));
  line(lim.target_max, "#16a34a", "dashed", t("目标", "target"));
  line(lim.hard_max, "#f97316", "solid", t("上限", "limit"));
  line(lim.hard_min, "#f97316", "solid", t("下限", "limit"));
  line(lim.critical_max, "#dc2626", "solid", t("临界", "critical"));
  let lo = Infinity, hi = -Infinity;
  const series = (d.series || []).map((s, i) => {
    for (const p of s.points) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
    return {
      name: en && s.name_en ? s.name_en : s.name, type: "line", showSymbol: false, sampling: "lttb", data: s.points,
      lineStyle: { width: 2 }, markLine: i === 0 ? { symbol: "none", silent: true, data: lines } : undefined,
    };
  });
  for (const v of [lim.target_min, lim.target_max, lim.hard_max]) if (v !== undefined && v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  // Times are shown in China time (UTC+8) whatever the phone's zone, like
  // the timeline rendered by the server.
  const cst = (v) => new Date(v + 8 * 3600e3);
  const pad = (n) => String(n).padStart(2, "0");
  let first = Infinity, last = -Infinity;
  for (const s of d.series || []) for (const p of s.points) { first = Math.min(first, p[0]); last = Math.max(last, p[0]); }
  const longSpan = last - first > 2 * 86400e3;
  const fmt = (v) => { const x = cst(v); return longSpan ? pad(x.getUTCMonth() + 1) + "-" + pad(x.getUTCDate()) : pad(x.getUTCHours()) + ":" + pad(x.getUTCMinutes()); };
  const fmtFull = (v) => { const x = cst(v); return pad(x.getUTCMonth() + 1) + "-" + pad(x.getUTCDate()) + " " + pad(x.getUTCHours()) + ":" + pad(x.getUTCMinutes()); };
  const chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    grid: { left: 36, right: 12, top: 28, bottom: 28 },
    legend: { top: 0, textStyle: { fontSize: 11 } },
    tooltip: { trigger: "axis", valueFormatter: (v) => v + "℃", axisPointer: { label: { formatter: (p) => fmtFull(p.value) } } },
    xAxis: { type: "time", axisLabel: { fontSize: 10, hideOverlap: true, formatter: fmt } },
    yAxis: { type: "value", name: "℃", min: Math.floor(lo - 1), max: Math.ceil(hi + 1), axisLabel: { fontSize: 10 } },
    series,
  });
  window.addEventListener("resize", () => chart.resize());
  el.dataset.ready = "1";
})();
