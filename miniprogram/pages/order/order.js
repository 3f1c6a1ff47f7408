// The buyer's order: status steps, the pickup code once paid (what the
// store scans or types), pay again while unpaid, and 取货提醒 (a subscribe
// message for "ready for pickup"). The order:<id> topic says when the
// status changes; the buyer's full order (with the code) comes from the
// API, because the topic's frames carry what staff may see.
const api = require("../../lib/api");
const { connect } = require("../../lib/socket");
const { t } = require("../../lib/i18n");
const fmt = require("../../lib/format");
const { payOrder } = require("../../lib/pay");
const subscribe = require("../../lib/subscribe");

const labels = () => ({
  showCode: t("到店出示取货码", "Show this code at the store"), slot: t("取货时段", "Pickup slot"), remind: t("取货提醒", "Tell me when it's ready"),
  number: t("订单号", "Order no."), total: t("合计", "Total"), pay: t("去支付", "Pay now"),
});

Component({
  data: { text: {}, status: "", statusText: "", steps: [], pickupCode: "", slot: "", number: "", lines: [], total: "", busy: false, error: "" },
  methods: {
    onLoad(query) {
      this.id = Number(query.id);
      this.setData({ text: labels() });
      subscribe.prefetch().catch(() => {});
      this.sock = connect(["order:" + this.id], {
        event: (topic, type) => { if (type === "order.status" || type === "aftersale.status") this.reload(); },
        status: (s) => { if (s === "open") this.reload(); },
      });
      return this.reload();
    },
    onUnload() { if (this.sock) this.sock.close(); },
    async reload() {
      try { this.apply(await api.authed("GET", "/api/v1/orders/" + this.id)); } catch (e) { this.setData({ error: e.message }); }
    },
    apply(o) {
      const flow = o.fulfilment === "pickup" ? ["pending_payment", "paid", "ready", "completed"] : ["pending_payment", "paid", "shipped", "completed"];
      const at = flow.indexOf(o.status);
      const showCode = o.fulfilment === "pickup" && (o.status === "paid" || o.status === "ready");
      this.setData({
        status: o.status, statusText: fmt.statusLabel(o.status), number: o.number, total: fmt.yuan(o.total_fen), error: "",
        steps: flow.map((s, i) => ({ key: s, label: fmt.statusLabel(s), done: at >= i })),
        pickupCode: showCode ? fmt.pickupCode(o.pickup_code) : "",
        slot: showCode && o.pickup_slot_start ? fmt.cnTime(o.pickup_slot_start) : "",
        lines: (o.lines || []).map((l, i) => ({ key: String(i), name: fmt.lineName(l) + (l.sku_name ? " · " + l.sku_name : ""), quantity: l.quantity, total: fmt.yuan(l.total_fen) })),
      });
    },
    async onPay() {
      this.setData({ busy: true, error: "" });
      try { await payOrder(this.id); } catch (e) { if (e.code !== "cancelled") this.setData({ error: e.message }); }
      this.setData({ busy: false });
      await this.reload(); // the callback may take a moment; the topic tells when
    },
    async onRemind() {
      try {
        const grants = await subscribe.ask(["order_ready"]);
        if (grants) wx.showToast({ title: t("备好货会通知你", "We'll tell you when it's ready"), icon: "none" });
      } catch (e) { this.setData({ error: e.message || t("未能订阅提醒", "Could not subscribe") }); }
    },
  },
});
