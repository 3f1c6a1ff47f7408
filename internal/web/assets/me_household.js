// 我的 → 冰箱提醒: the viewer's linked fridges and pantries, what they say
// per category, the switch for pushes, unlinking, and linking a new device
// (consent asked for; the device's token is shown once).
"use strict";
(function () {
  const SL = window.SL;
  const { t, h } = SL;
  const body = document.getElementById("household-body");
  if (!body) return;

  async function load() {
    let d;
    try { d = await SL.api("GET", "/api/v1/me/devices"); } catch (e) { body.replaceChildren(h("p", { class: "muted small" }, e.message)); return; }
    const live = d.devices.filter((x) => !x.revoked_at);
    const sw = h("input", { type: "checkbox", id: "hh-pushes", checked: d.pushes, onchange: async () => {
      try { await SL.api("PUT", "/api/v1/me/household", { pushes: sw.checked }); SL.toast(sw.checked ? t("已打开冰箱提醒", "Fridge reminders on") : t("已关闭冰箱提醒", "Fridge reminders off")); }
      catch (e) { sw.checked = !sw.checked; SL.toast(e.message); }
    } });
    const levels = h("ul", { class: "hh-levels", id: "hh-levels" }, d.estimates.map((e) => {
      const pct = Math.round(e.level * 100);
      const when = e.runout_at ? t("预计 ", "out ") + SL.fmtTime(e.runout_at) + t(" 用完", "") : t("在学习用量", "learning");
      const fill = h("i", {});
      fill.style.width = pct + "%"; // CSSOM, not a style attribute: the CSP allows no inline styles
      return h("li", {}, h("b", {}, e.category), h("span", { class: "hh-bar" + (pct <= 30 ? " low" : "") }, fill), h("span", { class: "muted" }, pct + "% · " + when));
    }));
    const devices = h("ul", { class: "hh-devices", id: "hh-devices" }, live.map((x) => h("li", {},
      h("span", {}, x.name, " ", h("span", { class: "muted small" }, x.kind === "pantry" ? t("储物柜", "pantry") : t("冰箱", "fridge"),
        x.last_seen_at ? " · " + t("最近上报 ", "last report ") + SL.fmtTime(x.last_seen_at) : " · " + t("尚未上报", "no report yet"))),
      h("button", { class: "btn small ghost", type: "button", onclick: async () => {
        if (!window.confirm(t("解除绑定后，这台设备的存量数据会被删除。确定吗？", "Unlinking deletes this device's readings. Go ahead?"))) return;
        try { await SL.api("DELETE", "/api/v1/me/devices/" + x.id); SL.toast(t("已解除绑定", "Unlinked")); load(); } catch (e) { SL.toast(e.message); }
      } }, t("解除绑定", "Unlink")))));
    // replaceChildren would print a null as "null": leave the empty parts out
    body.replaceChildren(...SL.kids(
      live.length ? h("label", { class: "hh-switch" }, sw, t("快用完时提醒我", "Remind me before things run out")) : null,
      d.estimates.length ? levels : null,
      live.length ? devices : h("p", { class: "muted small", id: "hh-none" }, t("还没有绑定设备。", "No device linked yet.")),
      linkForm()));
  }

  function linkForm() {
    const name = h("input", { name: "name", required: true, maxlength: "30", placeholder: t("设备名称，如 厨房冰箱", "Name, e.g. kitchen fridge") });
    const kind = h("select", { name: "kind" }, h("option", { value: "fridge" }, t("冰箱", "Fridge")), h("option", { value: "pantry" }, t("储物柜", "Pantry")));
    const consent = h("input", { type: "checkbox", name: "consent", id: "hh-consent-box" });
    const out = h("div", {});
    const form = h("form", { id: "hh-link", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const r = await SL.api("POST", "/api/v1/me/devices", { name: name.value, kind: kind.value, consent: consent.checked });
        await load();
        document.getElementById("hh-link").after(h("div", { class: "hh-token", id: "hh-token" },
          t("把下面的令牌填进设备（只显示这一次）：", "Enter this token in the device (shown only once): "), h("br"), h("code", {}, r.token), h("br"),
          t("设备上报地址：", "The device posts to: "), h("code", {}, location.origin + r.readings_url)));
      } catch (e) { out.replaceChildren(h("p", { class: "error small" }, e.message)); }
    } },
      h("div", { class: "row" }, name, kind),
      h("label", { class: "hh-consent" }, consent, t("我同意这台设备把各类食品的存量共享给本店，只用于快用完时提醒我；随时可解除绑定。", "I agree that this device shares how full each kind of food is with this shop, only to remind me before it runs out; I can unlink it any time.")),
      h("button", { class: "btn", type: "submit" }, t("绑定设备", "Link device")), out);
    return form;
  }
  load();
})();
