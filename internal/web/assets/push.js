// Web Push for reminders: registers the service worker and subscribes this
// browser with the install's VAPID key. SL.push.enable() asks permission
// (only ever after a tap), SL.push.state() says where things stand.
"use strict";
(function () {
  const SL = window.SL;
  const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const b64 = (s) => {
    const pad = "=".repeat((4 - (s.length % 4)) % 4);
    const raw = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  async function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" });
  }
  SL.push = {
    supported,
    async state() {
      if (!supported()) return "unsupported";
      if (Notification.permission === "denied") return "denied";
      const reg = await navigator.serviceWorker.getRegistration("/");
      const sub = reg && (await reg.pushManager.getSubscription());
      return sub ? "on" : "off";
    },
    // enable asks the browser for permission and sends the subscription.
    async enable() {
      if (!supported()) throw new Error(SL.t("此浏览器不支持推送提醒", "This browser cannot receive push reminders"));
      const perm = await Notification.requestPermission();
      if (perm !== "granted") throw new Error(SL.t("未允许通知", "Notifications were not allowed"));
      const reg = await registration();
      await navigator.serviceWorker.ready;
      const { public_key } = await SL.api("GET", "/api/v1/push/key");
      let sub = await reg.pushManager.getSubscription();
      if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64(public_key) });
      return SL.api("POST", "/api/v1/me/push-subscriptions", sub.toJSON());
    },
    async disable() {
      const reg = await navigator.serviceWorker.getRegistration("/");
      const sub = reg && (await reg.pushManager.getSubscription());
      if (sub) {
        await SL.api("DELETE", "/api/v1/me/push-subscriptions", { endpoint: sub.endpoint });
        await sub.unsubscribe();
      }
    },
  };
  if (supported()) registration().catch(() => {});
})();
