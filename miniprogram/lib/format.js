// Money is integer fen; times are shown in China time (UTC+8, no DST).
const { t, lang } = require("./i18n");

const yuan = (fen) => (fen < 0 ? "-¥" : "¥") + (Math.abs(fen || 0) / 100).toFixed(2);

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n) => String(n).padStart(2, "0");

// cnTime formats an RFC 3339 time as China time: 12/07 20:00 in Chinese,
// 7 Dec, 20:00 in English (a bare 07/12 reads as July to half the world).
function cnTime(iso) {
  const ms = Date.parse(iso);
  if (isNaN(ms)) return "";
  const d = new Date(ms + 8 * 3600 * 1000); // read with getUTC*: China time
  const hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  if (lang() === "en") return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + ", " + hm;
  return pad(d.getUTCMonth() + 1) + "/" + pad(d.getUTCDate()) + " " + hm;
}

// pickupCode groups the 8 digits as the shop's scanner shows them: 1234 5678.
const pickupCode = (code) => (code && code.length === 8 ? code.slice(0, 4) + " " + code.slice(4) : code || "");

const productName = (p) => (lang() === "en" && p.name_en ? p.name_en : p.name);
// lineName is an order line's product name: English when it has one.
const lineName = (l) => (lang() === "en" && l.product_name_en ? l.product_name_en : l.product_name);

const statusLabel = (s) => ({
  pending_payment: t("待支付", "Awaiting payment"), paid: t("已支付", "Paid"), ready: t("待取货", "Ready for pickup"),
  shipped: t("已发货", "Shipped"), completed: t("已完成", "Completed"), cancelled: t("已取消", "Cancelled"), expired: t("已超时", "Expired"),
}[s] || s);

module.exports = { yuan, cnTime, pickupCode, productName, lineName, statusLabel };
