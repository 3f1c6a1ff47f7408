// ShelfLive viewer mini-program: the room, buying, the order with its
// pickup code. Pages are built with Component() so the same code runs in
// WeChat and under miniprogram-simulate in the tests.
App({
  onLaunch() {
    // Log in early (wx.login → POST /api/v1/auth/wechat/miniprogram); pages
    // log in again on their own if this fails or the token expired.
    require("./lib/api").login().catch(() => {});
  },
});
