// Checkout: pick a payment provider the shop accepts and the method that
// fits this browser (inside WeChat → JSAPI; other phones → WeChat H5 or
// Alipay WAP; desktop → a QR code to scan), then pay.
"use strict";
(function () {
  const { h, t, api } = SL;
  const ua = navigator.userAgent;
  const inWeChat = /MicroMessenger/i.test(ua);
  const mobile = inWeChat || /Android|iPhone|iPad|iPod|Mobile|HarmonyOS/i.test(ua);
  const names = { wechatpay: t("微信支付", "WeChat Pay"), alipay: t("支付宝", "Alipay"), dev: t("模拟支付（开发）", "Simulated (dev)") };
  const methodFor = { wechatpay: inWeChat ? "jsapi" : mobile ? "h5" : "native", alipay: mobile ? "wap" : "qr", dev: "page" };

  function overlay(...kids) {
    close();
    const back = h("div", { class: "checkout-backdrop", id: "checkout-backdrop", onclick: close });
    const box = h("section", { class: "checkout-box", id: "checkout", role: "dialog", "aria-modal": "true" }, ...kids);
    document.body.append(back, box);
    return box;
  }
  function close() { for (const id of ["checkout-backdrop", "checkout"]) { const el = document.getElementById(id); if (el) el.remove(); } }

  function pick(providers) {
    return new Promise((resolve, reject) => {
      overlay(h("h2", {}, t("选择支付方式", "Choose how to pay")),
        providers.map((p) => h("button", { class: "btn btn-block pay-option pay-" + p, type: "button", id: "pay-with-" + p, onclick: () => { close(); resolve(p); } }, names[p] || p)),
        h("button", { class: "btn btn-ghost btn-block", type: "button", onclick: () => { close(); reject(Object.assign(new Error(t("已取消", "Cancelled")), { code: "cancelled" })); } }, t("取消", "Cancel")));
    });
  }

  function showQR(orderId, provider, codeURL) {
    overlay(h("h2", {}, provider === "alipay" ? t("请用支付宝扫码支付", "Scan with Alipay to pay") : t("请用微信扫码支付", "Scan with WeChat to pay")),
      h("img", { class: "pay-qr", id: "pay-qr", src: "/qr/pay?u=" + encodeURIComponent(codeURL), alt: t("支付二维码", "Payment QR code"), width: 240, height: 240 }),
      h("p", { class: "muted small" }, t("支付完成后页面会自动跳转", "This page moves on by itself once you have paid")),
      h("a", { class: "btn btn-ghost btn-block", href: "/orders/" + orderId }, t("查看订单", "View order")));
    const poll = setInterval(async () => {
      if (!document.getElementById("pay-qr")) { clearInterval(poll); return; }
      try { const o = await api("GET", "/api/v1/orders/" + orderId); if (o.status !== "pending_payment") { clearInterval(poll); location.href = "/orders/" + orderId; } } catch (e) { /* keep waiting */ }
    }, 2000);
  }

  function jsapi(orderId, params) {
    const go = () => window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, (res) => {
      if (res && res.err_msg === "get_brand_wcpay_request:ok") location.href = "/orders/" + orderId;
      else SL.toast(t("支付未完成", "Payment not completed"));
    });
    if (window.WeixinJSBridge) go(); else document.addEventListener("WeixinJSBridgeReady", go, { once: true });
  }

  // SL.checkout pays an order; errors throw like SL.api's.
  SL.checkout = async function (orderId) {
    let { providers } = await api("GET", "/api/v1/orders/" + orderId + "/payment-options");
    if (inWeChat && providers.includes("wechatpay")) providers = providers.filter((p) => p !== "alipay"); // WeChat blocks Alipay pages
    if (!providers.length) throw Object.assign(new Error(t("该店铺尚未开通在线支付", "This shop does not take online payments yet")), { code: "payment_not_configured" });
    const provider = providers.length === 1 ? providers[0] : await pick(providers);
    let p;
    try { p = await api("POST", "/api/v1/orders/" + orderId + "/pay", { provider, method: methodFor[provider] }); } catch (e) {
      if (e.code === "openid_required") { location.href = "/wechat/oauth?next=" + encodeURIComponent("/orders/" + orderId + "?pay=1"); return; }
      throw e;
    }
    const a = p.action || {};
    if (a.jsapi) return jsapi(orderId, a.jsapi);
    if (a.code_url) return showQR(orderId, provider, a.code_url);
    location.href = a.h5_url || a.pay_url || p.pay_url;
  };
})();
