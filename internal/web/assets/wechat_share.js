// Inside WeChat: configure the JS-SDK for this page (the server signs it
// with the shop's official account) so "send to chat" and Moments show the
// room's title, time, prices and cover, and the link carries the sharer's
// signed code. Outside WeChat this does nothing.
"use strict";
(function () {
  if (!/MicroMessenger/i.test(navigator.userAgent)) return;
  const root = document.getElementById("live");
  if (!root || !root.dataset.wxJs) return;
  // Silent login once per visit: the shop's official account says who this
  // is (snsapi_base, no prompt); a WeChat user bound to a phone account
  // comes back logged in, anyone else comes back as they left.
  if (root.dataset.loggedIn !== "1" && !sessionStorage.getItem("sl_wx_login")) {
    sessionStorage.setItem("sl_wx_login", "1");
    location.replace("/wechat/login?m=" + encodeURIComponent(root.dataset.merchant) + "&next=" + encodeURIComponent(location.pathname + location.search));
    return;
  }
  const state = (window.__slWeChat = { state: "loading" });
  const url = location.href.split("#")[0];
  const g = root.dataset.guide ? "&g=" + encodeURIComponent(root.dataset.guide) : "";
  const api = window.SL.api("GET", "/api/v1/rooms/" + root.dataset.slug + "/wechat-share?url=" + encodeURIComponent(url) + g);
  const s = document.createElement("script");
  s.src = root.dataset.wxJs;
  s.onload = async () => {
    try {
      const r = await api;
      state.config = r.config; state.share = r.share;
      const wx = window.wx;
      if (!r.config) { state.state = "no-account"; return; }
      if (!wx) { state.state = "no-sdk"; return; }
      wx.config(Object.assign({ debug: false, jsApiList: r.js_api_list }, r.config));
      wx.ready(() => {
        wx.updateAppMessageShareData(r.share);
        wx.updateTimelineShareData({ title: r.share.title, link: r.share.link, imgUrl: r.share.imgUrl });
        state.state = "ready";
      });
      wx.error((e) => { state.state = "error"; state.error = e; });
      state.state = "configured";
    } catch (e) { state.state = "failed"; state.error = e.message; }
  };
  document.head.appendChild(s);
})();
