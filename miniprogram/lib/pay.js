// Paying an order from the mini-program: WeChat Pay's JSAPI order made for
// the mini-program's appid and the buyer's openid (method "miniprogram"),
// then wx.requestPayment with the parameters ShelfLive signed.
const api = require("./api");
const { t } = require("./i18n");

async function payOrder(orderId) {
  const { providers } = await api.authed("GET", "/api/v1/orders/" + orderId + "/payment-options");
  if (!(providers || []).includes("wechatpay")) {
    throw Object.assign(new Error(t("该店铺尚未开通微信支付", "This shop does not take WeChat Pay yet")), { code: "payment_not_configured" });
  }
  const p = await api.authed("POST", "/api/v1/orders/" + orderId + "/pay", { provider: "wechatpay", method: "miniprogram" });
  const j = (p.action || {}).jsapi;
  if (!j) throw Object.assign(new Error(t("支付参数缺失", "No payment parameters")), { code: "no_jsapi" });
  await new Promise((resolve, reject) => wx.requestPayment({
    timeStamp: j.timeStamp, nonceStr: j.nonceStr, package: j.package, signType: j.signType, paySign: j.paySign,
    success: resolve,
    fail: (e) => reject(Object.assign(new Error(/cancel/.test((e && e.errMsg) || "") ? t("已取消支付", "Payment cancelled") : t("支付未完成", "Payment not completed")),
      { code: /cancel/.test((e && e.errMsg) || "") ? "cancelled" : "pay_failed" })),
  }));
  return p;
}

module.exports = { payOrder };
