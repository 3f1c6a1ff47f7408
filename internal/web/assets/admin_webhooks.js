// Admin → 数据推送 Webhooks: subscribe endpoints, see the delivery log,
// replay, test, rotate secrets. Registered into admin.js's tabs.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};
  const eventLabel = {
    "order.created": ["下单", "Order placed"], "order.paid": ["支付成功", "Order paid"], "order.cancelled": ["订单取消", "Order cancelled"],
    "order.refunded": ["退款", "Order refunded"], "order.ready": ["备货完成", "Ready for pickup"], "order.shipped": ["已发货", "Shipped"],
    "order.completed": ["订单完成", "Order completed"], "lot.held": ["批次暂停销售", "Lot held"], "lot.released": ["批次恢复销售", "Lot released"],
    "room.started": ["开播", "Live started"], "room.ended": ["下播", "Live ended"],
  };
  const statusCls = { delivered: "green", pending: "amber", failed: "red" };

  SL.adminTabs.webhooks = async function (c) {
    const { main, h, t, api, toast, table, toolbar, badge, fmt, show } = c;
    const r = await api("GET", "/api/v1/webhooks");
    const label = (ev) => (eventLabel[ev] ? t(eventLabel[ev][0], eventLabel[ev][1]) : ev);
    const secretBox = h("div");
    const showSecret = (ep) => secretBox.replaceChildren(h("div", { class: "card notice", id: "webhook-secret" },
      h("p", {}, h("b", {}, t("签名密钥（只显示这一次，请立即复制到接收方）：", "Signing secret (shown only now; copy it to the receiver):"))),
      h("p", { class: "mono secret" }, ep.secret)));

    const act = (label, cls, fn) => h("button", { class: "btn btn-sm " + (cls || ""), type: "button", onclick: async () => {
      try { await fn(); } catch (e) { toast(e.message); }
    } }, label);

    async function deliveries(ep) {
      const d = await api("GET", "/api/v1/webhooks/" + ep.id + "/deliveries");
      main.replaceChildren(
        toolbar(t("投递记录 · ", "Deliveries · ") + ep.url, act(t("返回", "Back"), "", () => show("webhooks"))),
        d.deliveries.length === 0 ? h("p", { class: "muted" }, t("还没有投递。", "Nothing sent yet.")) :
          table([t("时间", "Time"), t("事件", "Event"), "webhook-id", t("状态", "Status"), t("尝试", "Attempts"), t("最后结果", "Last result"), ""],
            d.deliveries.map((x) => h("tr", {}, h("td", {}, fmt(x.created_at)), h("td", {}, label(x.type)), h("td", { class: "mono small" }, x.message_id),
              h("td", {}, badge({ delivered: t("已送达", "Delivered"), pending: t("重试中", "Retrying"), failed: t("失败", "Failed") }[x.status] || x.status, statusCls[x.status])),
              h("td", {}, x.attempts), h("td", { class: "small" }, x.last_status ? "HTTP " + x.last_status : (x.last_error || "—")),
              h("td", {}, x.status !== "pending" ? act(t("重放", "Replay"), "", async () => { await api("POST", "/api/v1/webhook-deliveries/" + x.id + "/replay"); toast(t("已重新排队", "Queued again")); deliveries(ep); }) : null)))));
    }

    const form = h("form", { class: "card", id: "webhook-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const events = [...form.querySelectorAll("input[name=event]:checked")].map((x) => x.value);
      try {
        const ep = await api("POST", "/api/v1/webhooks", { url: form.url.value, description: form.description.value, events });
        form.reset(); await render(); showSecret(ep); toast(t("已添加", "Added"));
      } catch (e) { toast(e.message + (e.field ? " (" + e.field + ")" : "")); }
    } },
      h("h2", {}, t("添加接收地址", "Add an endpoint")),
      h("div", { class: "form-grid" },
        h("label", { class: "full" }, t("接收地址（https://）", "Endpoint URL (https://)"), h("input", { name: "url", required: true, placeholder: "https://erp.example.com/shelflive" })),
        h("label", { class: "full" }, t("备注", "Description"), h("input", { name: "description", maxlength: "200" })),
        h("fieldset", { class: "full checks" }, h("legend", {}, t("订阅的事件", "Events")),
          r.event_types.map((ev) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "event", value: ev }), label(ev), h("span", { class: "mono small muted" }, " " + ev))))),
      h("div", { class: "modal-actions" }, h("button", { class: "btn btn-primary", type: "submit" }, t("添加", "Add"))));

    async function render() {
      const list = (await api("GET", "/api/v1/webhooks")).endpoints;
      main.replaceChildren(
        toolbar(t("数据推送（Webhooks）", "Webhooks")),
        h("p", { class: "muted small" }, t("订单、批次暂停和开播等事件按 Standard Webhooks 签名推送给您的系统（ERP、供应商），失败后 24 小时内按 5秒/5分/30分/2时/5时/10时 重试。详见 docs/WEBHOOKS.md。",
          "Orders, lot holds and lives are pushed to your systems (ERP, suppliers), signed per Standard Webhooks, retried for 24 h (5 s, 5 min, 30 min, 2 h, 5 h, 10 h). See docs/WEBHOOKS.md.")),
        secretBox,
        list.length === 0 ? h("p", { class: "muted" }, t("还没有接收地址。", "No endpoints yet.")) :
          table([t("地址", "URL"), t("事件", "Events"), t("密钥", "Secret"), t("状态", "State"), ""],
            list.map((ep) => h("tr", {},
              h("td", {}, h("div", { class: "mono small" }, ep.url), ep.description ? h("div", { class: "small muted" }, ep.description) : null),
              h("td", { class: "small" }, ep.events.map(label).join("、")),
              h("td", { class: "mono small" }, ep.secret_hint),
              h("td", {}, ep.enabled ? badge(t("启用", "On"), "green") : badge(ep.disabled_reason === "failed_deliveries" ? t("连续失败已停用", "Off after failures") : t("已停用", "Off"), "red")),
              h("td", { class: "actions" },
                act(t("记录", "Log"), "", () => deliveries(ep)),
                act(t("发送测试", "Send test"), "", async () => { await api("POST", "/api/v1/webhooks/" + ep.id + "/test"); toast(t("已发送测试消息", "Test message queued")); }),
                act(ep.enabled ? t("停用", "Turn off") : t("启用", "Turn on"), "", async () => { await api("PATCH", "/api/v1/webhooks/" + ep.id, { enabled: !ep.enabled }); render(); }),
                act(t("更换密钥", "New secret"), "", async () => { if (!confirm(t("更换后旧密钥立即失效，确定？", "The old secret stops working at once. Continue?"))) return; const x = await api("POST", "/api/v1/webhooks/" + ep.id + "/rotate-secret"); await render(); showSecret(x); }),
                act(t("删除", "Delete"), "btn-danger", async () => { if (!confirm(t("删除此地址及其投递记录？", "Delete this endpoint and its log?"))) return; await api("DELETE", "/api/v1/webhooks/" + ep.id); render(); }))))),
        form);
    }
    await render();
  };
})();
