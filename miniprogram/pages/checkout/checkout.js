// Checkout for one product of a room: option, quantity and pickup store
// (stock per store from the server), then the order (POST /api/v1/orders
// with an Idempotency-Key: a double tap is one order) and WeChat Pay
// (lib/pay.js). Paid or not, the order page follows; it can pay again.
const api = require("../../lib/api");
const { t } = require("../../lib/i18n");
const fmt = require("../../lib/format");
const { payOrder } = require("../../lib/pay");

const labels = () => ({
  option: t("规格", "Option"), quantity: t("数量", "Quantity"), store: t("自提门店", "Pickup store"),
  total: t("合计", "Total"), submit: t("提交订单并支付", "Place order and pay"),
});

// Messages for the refusals a buyer can do something about.
const refusal = (e) => ({
  out_of_stock: t("手慢了，库存不足，请减少数量或换个门店", "Not enough stock left — try fewer or another store"),
  sold_out: t("手慢了，已经抢光啦", "Too late — it's sold out"),
  lot_on_hold: t("暂停销售：该批次冷链复核中", "On hold: the lot is under cold-chain review"),
  pickup_slots_full: t("这家门店近两天的自提时段都约满了，请换一家门店", "Every pickup slot here is full for two days; choose another store"),
}[e.code] || e.message);

Component({
  data: { text: {}, product: null, skus: [], skuID: 0, qty: 1, stores: [], storeID: 0, unitPrice: "", total: "", canSubmit: false, busy: false, error: "" },
  methods: {
    async onLoad(query) {
      this.slug = query.slug;
      this.productID = Number(query.product);
      this.idem = "mp-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
      this.setData({ text: labels() });
      try {
        const st = await api.get("/api/v1/rooms/" + encodeURIComponent(this.slug));
        this.roomID = st.room.id;
        const p = (st.products || []).concat(st.pinned ? [st.pinned] : []).find((x) => x.id === this.productID);
        if (!p) throw new Error(t("该商品不在本场直播中", "This product is not in this live"));
        this.skuList = (p.skus || []).filter((k) => k.active !== false);
        const first = this.skuList.find((k) => k.available > 0) || this.skuList[0];
        this.setData({
          product: { id: p.id, name: fmt.productName(p), image: p.image ? api.abs(p.image) : "" },
          skus: this.skuList.map((k) => ({ id: k.id, available: k.available, label: k.name + " · " + fmt.yuan(k.price_fen) })),
        });
        await this.pickSKU(first ? first.id : 0);
      } catch (e) {
        this.setData({ error: e.message });
      }
    },
    sku() { return (this.skuList || []).find((k) => k.id === this.data.skuID); },
    async pickSKU(id) {
      this.setData({ skuID: id, qty: 1 });
      const list = id ? (await api.get("/api/v1/rooms/" + encodeURIComponent(this.slug) + "/stores?sku=" + id)).stores || [] : [];
      this.storeList = list;
      this.refresh();
    },
    // refresh recomputes stores, total and whether the order can go.
    refresh() {
      const k = this.sku();
      const qty = this.data.qty;
      const stores = (this.storeList || []).map((s) => ({
        id: s.id, name: s.name, address: s.address || "", enough: (s.available || 0) >= qty,
        stockText: (s.available || 0) > 0 ? t("库存 " + s.available, "In stock: " + s.available) : (s.held || 0) > 0 ? t("暂停销售 — 本店冷链复核中", "On hold here") : t("本店无货", "Out of stock here"),
      }));
      let storeID = this.data.storeID;
      if (!stores.some((s) => s.id === storeID && s.enough)) storeID = (stores.find((s) => s.enough) || {}).id || 0;
      this.setData({ stores, storeID, unitPrice: k ? fmt.yuan(k.price_fen) : "", total: k ? fmt.yuan(k.price_fen * qty) : "", canSubmit: !!(k && storeID) });
    },
    onSKU(e) { this.pickSKU(Number(e.currentTarget.dataset.sku)); },
    onStore(e) {
      const id = Number(e.currentTarget.dataset.store);
      if (this.data.stores.some((s) => s.id === id && s.enough)) this.setData({ storeID: id });
    },
    onMinus() { if (this.data.qty > 1) { this.setData({ qty: this.data.qty - 1 }); this.refresh(); } },
    onPlus() {
      const k = this.sku();
      if (k && this.data.qty < Math.min(99, k.available)) { this.setData({ qty: this.data.qty + 1 }); this.refresh(); }
    },
    async onSubmit() {
      if (this.data.busy || !this.data.canSubmit) return;
      this.setData({ busy: true, error: "" });
      let order;
      try {
        order = await api.authed("POST", "/api/v1/orders", {
          items: [{ sku_id: this.data.skuID, quantity: this.data.qty }], fulfilment: "pickup", store_id: this.data.storeID, room_id: this.roomID,
        }, { "Idempotency-Key": this.idem });
      } catch (e) {
        this.setData({ busy: false, error: refusal(e) });
        if (e.code === "out_of_stock") this.pickSKU(this.data.skuID);
        return;
      }
      this.order = order;
      try {
        await payOrder(order.id);
      } catch (e) {
        if (e.code !== "cancelled") wx.showToast({ title: e.message, icon: "none" });
      }
      this.setData({ busy: false });
      wx.redirectTo({ url: "/pages/order/order?id=" + order.id });
    },
  },
});
