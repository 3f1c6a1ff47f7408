// Cold-chain console → complaints and refunds per product and lot, beside
// the cold-chain evidence: a lot with an alarm is marked, so quality sees
// whether customers' complaints follow the temperature record.
"use strict";
(function () {
  const { h, t, api, yuan } = SL;
  const body = document.querySelector("#cc-quality-table tbody");
  if (!body) return;
  const pct = (a, b) => (b > 0 ? (100 * a / b).toFixed(1) + "%" : "—");
  async function load() {
    let stats, alarms;
    try {
      [stats, alarms] = await Promise.all([api("GET", "/api/v1/aftersales/stats?days=30"), api("GET", "/api/v1/coldchain/alarms")]);
    } catch (e) { return; }
    const alarmed = new Set();
    for (const a of alarms.alarms || []) for (const l of a.lots || []) alarmed.add(l.lot_code);
    body.replaceChildren(...stats.stats.map((s) => h("tr", { class: alarmed.has(s.lot_code) ? "cc-alarmed" : "", dataset: { lot: s.lot_code } },
      h("td", {}, SL.itemName(s)), h("td", { class: "mono" }, s.lot_code || "—"), h("td", {}, s.sold),
      h("td", {}, s.complaints), h("td", { class: s.sold > 0 && s.complaints / s.sold >= 0.05 ? "red-text" : "" }, pct(s.complaints, s.sold)),
      h("td", {}, s.refunded + " · " + yuan(s.refunded_fen)), h("td", {}, pct(s.refunded, s.sold)),
      h("td", {}, alarmed.has(s.lot_code) ? h("span", { class: "badge red" }, t("有告警", "Alarm")) : h("span", { class: "muted small" }, t("无告警", "None"))))));
    document.getElementById("cc-quality-empty").classList.toggle("hidden", stats.stats.length > 0);
  }
  load();
  setInterval(load, 60000);
})();
