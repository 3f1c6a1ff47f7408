// The mini-program's one client of the ShelfLive HTTP API: base URL from
// config.js, the viewer's bearer token (a mini-program has no cookies),
// login through wx.login → POST /api/v1/auth/wechat/miniprogram, and
// problem+json errors as Error objects carrying code, status and field.
const config = require("../config");
const { t, acceptLanguage } = require("./i18n");

const TOKEN_KEY = "shelflive_token";

const base = () => String(config.server).replace(/\/+$/, "");
// abs makes a server path absolute (media URLs are paths on the node).
const abs = (u) => (!u || /^[a-z]+:\/\//i.test(u) ? u : base() + u);
const wsBase = () => base().replace(/^http/i, "ws");
const token = () => { try { return wx.getStorageSync(TOKEN_KEY) || ""; } catch (e) { return ""; } };
const setToken = (v) => { try { if (v) wx.setStorageSync(TOKEN_KEY, v); else wx.removeStorageSync(TOKEN_KEY); } catch (e) { /* storage full: log in again next time */ } };

function problem(res) {
  const d = (res && res.data && typeof res.data === "object") ? res.data : {};
  const err = new Error(d.detail || d.title || t("请求失败", "Request failed") + " (" + res.statusCode + ")");
  err.code = d.code || ""; err.status = res.statusCode; err.field = d.field || ""; err.problem = d;
  return err;
}

// request sends one call; bearer adds the viewer's token when there is one.
function request(method, path, body, headers) {
  return new Promise((resolve, reject) => {
    const header = Object.assign({ Accept: "application/json", "Accept-Language": acceptLanguage() }, headers || {});
    if (body !== undefined) header["Content-Type"] = "application/json";
    const tk = token();
    if (tk && !header.Authorization) header.Authorization = "Bearer " + tk;
    wx.request({
      url: base() + path, method, header, data: body === undefined ? undefined : body, dataType: "json",
      success(res) {
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(res.statusCode === 204 ? null : res.data);
        else reject(problem(res));
      },
      fail() {
        const err = new Error(t("网络不太稳定，请重试", "Network problem; please retry"));
        err.code = "network";
        reject(err);
      },
    });
  });
}

let loggingIn = null;
// login exchanges a fresh wx.login code for a viewer session of the shop;
// the same WeChat user is always the same customer.
function login() {
  if (!loggingIn) {
    loggingIn = new Promise((resolve, reject) => {
      wx.login({ success: (r) => resolve(r.code), fail: () => reject(Object.assign(new Error(t("微信登录失败", "WeChat login failed")), { code: "wx_login" })) });
    }).then((code) => request("POST", "/api/v1/auth/wechat/miniprogram", { merchant: config.merchant, code }))
      .then((s) => { setToken(s.token); return s; })
      .finally(() => { loggingIn = null; });
  }
  return loggingIn;
}

// authed is a call that needs the viewer: it logs in first when there is
// no token and once more when the token was refused (expired, erased).
async function authed(method, path, body, headers) {
  if (!token()) await login();
  try {
    return await request(method, path, body, headers);
  } catch (e) {
    if (e.status !== 401) throw e;
    setToken("");
    await login();
    return request(method, path, body, headers);
  }
}

module.exports = { base, abs, wsBase, token, setToken, request, login, authed, get: (path) => request("GET", path) };
