// Admin console: the shop's WeChat Pay and Alipay accounts (keys go in and
// never come back: the page shows ids and fingerprints), the credential
// check, the shop's SMS sign name and template, its WeCom connection, and
// partial refunds of paid orders.
"use strict";
(function () {
  const { h, t, api, yuan, toast } = SL;
  const A = SL.admin;
  if (!A) return;

  const vendors = {
    wechatpay: {
      title: t("微信支付", "WeChat Pay"),
      help: t("在微信支付商户平台（pay.weixin.qq.com）“账户中心 → API 安全”取得：商户 API 证书序列号与私钥 apiclient_key.pem、APIv3 密钥、微信支付公钥与公钥 ID；AppID 是绑定的公众号 AppID。详见 docs/PAYMENTS.md。",
        "From the WeChat Pay merchant platform (pay.weixin.qq.com), Account → API security: the merchant API certificate serial and apiclient_key.pem, the APIv3 key, the WeChat Pay public key and its id; appid is the bound official account's AppID. See docs/PAYMENTS.md."),
      fields: [["mchid", t("商户号 mchid", "Merchant id (mchid)")], ["appid", t("公众号 AppID", "Official account AppID")], ["serial_no", t("商户 API 证书序列号", "Merchant API certificate serial")],
        ["apiv3_key", t("APIv3 密钥（32 位）", "APIv3 key (32 characters)"), { type: "password", autocomplete: "off" }],
        ["private_key_pem", t("商户 API 私钥 apiclient_key.pem", "Merchant API private key (apiclient_key.pem)"), { textarea: true, full: true, rows: "5" }],
        ["public_key_id", t("微信支付公钥 ID（PUB_KEY_ID_…，留空用平台证书）", "WeChat Pay public key id (PUB_KEY_ID_…; blank: platform certificates)")],
        ["public_key_pem", t("微信支付公钥 pub_key.pem", "WeChat Pay public key (pub_key.pem)"), { textarea: true, full: true, rows: "5" }],
        ["app_secret", t("公众号 AppSecret（微信内支付 JSAPI 用，可不填）", "Official account AppSecret (for paying inside WeChat; optional)"), { type: "password", autocomplete: "off" }],
        ["reminder_template_id", t("开播提醒模板消息 ID（关键词 thing1 标题、time2 开播时间、thing3 备注；可不填）", "Live reminder template message id (keywords thing1 title, time2 start, thing3 note; optional)")]],
      shown: ["mchid", "appid", "serial_no", "public_key_id", "private_key", "public_key", "verify_mode", "app_secret", "reminder_template_id"],
    },
    alipay: {
      title: t("支付宝", "Alipay"),
      help: t("在支付宝开放平台（open.alipay.com）应用详情 → 开发设置 → 接口加签方式（密钥，RSA2）取得：APPID、应用私钥、支付宝公钥（不是应用公钥）。详见 docs/PAYMENTS.md。",
        "From the Alipay open platform (open.alipay.com), app → development settings → signing (keys, RSA2): APPID, the app private key, and the Alipay public key (not the app's own public key). See docs/PAYMENTS.md."),
      fields: [["app_id", "APPID"], ["private_key_pem", t("应用私钥（RSA2）", "App private key (RSA2)"), { textarea: true, full: true, rows: "5" }],
        ["alipay_public_key_pem", t("支付宝公钥", "Alipay public key"), { textarea: true, full: true, rows: "5" }]],
      shown: ["app_id", "private_key", "alipay_public_key"],
    },
  };
  const label = { mchid: "mchid", appid: "AppID", serial_no: t("证书序列号", "Serial"), public_key_id: t("公钥 ID", "Public key id"), private_key: t("私钥指纹", "Private key"),
    public_key: t("微信支付公钥指纹", "Public key"), verify_mode: t("验签方式", "Verification"), app_secret: "AppSecret", reminder_template_id: t("提醒模板", "Reminder template"), app_id: "APPID", alipay_public_key: t("支付宝公钥指纹", "Alipay public key") };

  function edit(name) {
    const v = vendors[name];
    A.openModal(t("设置", "Set up ") + v.title, [h("p", { class: "full small muted" }, v.help)].concat(
      v.fields.map(([f, l, attrs]) => A.field(l, f, "", Object.assign({ required: !["public_key_id", "public_key_pem", "app_secret", "reminder_template_id"].includes(f), spellcheck: "false" }, attrs || {})))),
    async (form) => {
      const body = {};
      for (const [f] of v.fields) if (form[f].value.trim() !== "") body[f] = form[f].value;
      await api("PUT", "/api/v1/payments/" + name, body);
      toast(t("已保存（密钥已加密保存，不再显示）", "Saved (keys are stored encrypted and not shown again)"));
      A.show("payments");
    });
  }

  async function check(name, out) {
    out.replaceChildren(t("检查中…", "Checking…"));
    try {
      const r = await api("POST", "/api/v1/payments/" + name + "/check");
      out.replaceChildren(r.ok ? A.badge(t("凭据有效", "Credentials work"), "green") : A.badge(SL.lang === "en" ? (r.english || r.code) : (r.message || r.code), "red"));
    } catch (e) { out.replaceChildren(A.badge(e.message, "red")); }
  }

  // The shop's own SMS sign name and template for login codes; empty
  // fields use the install's (SHELFLIVE_SMS_SIGN_NAME / _TEMPLATE).
  const smsProviders = { aliyun: t("阿里云短信", "Aliyun SMS"), tencent: t("腾讯云短信", "Tencent Cloud SMS"), dev: t("开发模式（验证码显示在页面）", "Dev mode (codes on screen)"), off: t("未配置", "Not configured") };
  function editSMS(v) {
    A.openModal(t("短信签名与模板", "SMS sign name and template"), [
      h("p", { class: "full small muted" }, t("填写服务商已审核通过的签名与验证码模板（阿里云：SMS_ 开头，变量 ${code}；腾讯云：数字模板 ID，变量 {1}）。留空则用平台默认：",
        "Use a sign name and code template the provider approved (Aliyun: SMS_…, variable ${code}; Tencent: numeric template id, variable {1}). Leave blank for the install's default: ") +
        (v.install.sign_name || "—") + " / " + (v.install.template || "—")),
      A.field(t("短信签名", "Sign name"), "sign_name", v.shop.sign_name, { maxlength: "12", placeholder: v.install.sign_name || "" }),
      A.field(t("验证码模板", "Code template"), "template", v.shop.template, { maxlength: "40", placeholder: v.install.template || "", spellcheck: "false" }),
    ], async (form) => {
      await api("PUT", "/api/v1/sms/settings", { sign_name: form.sign_name.value, template: form.template.value });
      toast(t("已保存：下一条验证码起生效", "Saved: used from the next login code"));
      A.show("payments");
    });
  }
  function smsCard(v) {
    const own = (k) => v.shop[k] ? null : h("span", { class: "muted small" }, t("（平台默认）", " (install default)"));
    return h("section", { class: "card pay-account", id: "sms-settings" },
      h("h2", {}, t("短信签名与模板", "SMS sign name and template"), " ", A.badge(smsProviders[v.provider] || v.provider, v.provider === "off" ? "amber" : "green")),
      h("dl", { class: "kv" },
        h("dt", {}, t("签名", "Sign name")), h("dd", { id: "sms-sign-name" }, v.effective.sign_name ? "【" + v.effective.sign_name + "】" : "—", own("sign_name")),
        h("dt", {}, t("模板", "Template")), h("dd", { class: "mono", id: "sms-template" }, v.effective.template || "—", own("template"))),
      h("p", { class: "muted small" }, t("买家收到的验证码短信以此签名发出；多个商家共用一个平台时，各用自己的签名。", "Viewers' login codes go out under this name; shops sharing an install each use their own.")),
      h("div", { class: "modal-actions" }, h("button", { class: "btn", type: "button", id: "edit-sms", onclick: () => editSMS(v) }, t("修改", "Edit"))));
  }

  // The shop's WeCom (企业微信) for guides sending lives to their WeCom
  // customers: corp id and the 客户联系 secret (write-only, like the keys).
  function editWeCom(v) {
    A.openModal(t("连接企业微信", "Connect WeCom"), [
      h("p", { class: "full small muted" }, t("在企业微信管理后台“我的企业”取得企业 ID；在“客户与上下游 → 客户联系 → API”取得 Secret。导购的企业微信 userid 在员工 API 中设置（PUT /api/v1/staff/{id}/wecom）。",
        "Corp id: WeCom admin → My company. Secret: Customers → Customer contact → API. Guides' WeCom userids are set through the staff API (PUT /api/v1/staff/{id}/wecom).")),
      A.field(t("企业 ID（corpid）", "Corp id (corpid)"), "corp_id", v.corp_id, { required: true, maxlength: "64", spellcheck: "false" }),
      A.field(t("客户联系 Secret（已设置时留空则不变）", "Customer contact secret (blank keeps the stored one)"), "secret", "", { type: "password", autocomplete: "off", maxlength: "128", required: !v.secret_set }),
    ], async (form) => {
      await api("PUT", "/api/v1/wecom/settings", { corp_id: form.corp_id.value, secret: form.secret.value });
      toast(t("已保存（Secret 已加密保存，不再显示）", "Saved (the secret is stored encrypted and not shown again)"));
      A.show("payments");
    });
  }
  function wecomCard(v) {
    return h("section", { class: "card pay-account", id: "wecom-settings" },
      h("h2", {}, t("企业微信", "WeCom"), " ", v.connected ? A.badge(t("已连接", "Connected"), "green") : A.badge(t("未连接", "Not connected"), "amber")),
      v.connected ? h("dl", { class: "kv" }, h("dt", {}, t("企业 ID", "Corp id")), h("dd", { class: "mono", id: "wecom-corp-id" }, v.corp_id)) : null,
      h("p", { class: "muted small" }, t("连接后，导购可在手机页把预告或直播一键发给自己的企业微信客户，链接带导购的签名分享码。", "Once connected, guides can send a scheduled or live room to their WeCom customers from their phone page, with their signed share link.")),
      h("div", { class: "modal-actions" }, h("button", { class: "btn", type: "button", id: "edit-wecom", onclick: () => editWeCom(v) }, v.connected ? t("修改", "Edit") : t("连接", "Connect"))));
  }

  A.tabs.payments = async function () {
    const [r, smsView, wecomView] = await Promise.all([api("GET", "/api/v1/payments"), api("GET", "/api/v1/sms/settings").catch(() => null), api("GET", "/api/v1/wecom/settings").catch(() => null)]);
    const cards = r.accounts.filter((a) => vendors[a.provider]).map((a) => {
      const v = vendors[a.provider];
      const out = h("span", { class: "check-result", id: "check-" + a.provider });
      return h("section", { class: "card pay-account", id: "account-" + a.provider },
        h("h2", {}, v.title, " ", a.configured ? A.badge(t("已配置", "Configured"), "green") : A.badge(t("未配置", "Not set up"), "amber")),
        a.configured ? h("dl", { class: "kv" }, ...v.shown.filter((k) => a[k]).flatMap((k) => [h("dt", {}, label[k]), h("dd", { class: "mono" }, a[k])]),
          h("dt", {}, t("更新时间", "Updated")), h("dd", {}, SL.fmtTime(a.updated_at))) : h("p", { class: "muted" }, v.help),
        h("div", { class: "modal-actions" },
          h("button", { class: "btn btn-primary", type: "button", id: "edit-" + a.provider, onclick: () => edit(a.provider) }, a.configured ? t("更换密钥", "Replace keys") : t("填写密钥", "Enter keys")),
          a.configured ? h("button", { class: "btn", type: "button", id: "checkbtn-" + a.provider, onclick: () => check(a.provider, out) }, t("检查凭据", "Check credentials")) : null, out));
    });
    A.main.replaceChildren(A.toolbar(t("支付设置", "Payments")),
      h("p", { class: "muted" }, t("密钥只写不读：保存后以 AES-256-GCM 加密存放，页面只显示商户号与指纹。回调地址见 docs/PAYMENTS.md。",
        "Keys are write-only: stored encrypted (AES-256-GCM); this page shows ids and fingerprints only. Callback URLs: docs/PAYMENTS.md.")), h("div", { class: "pay-accounts" }, cards, smsView ? smsCard(smsView) : null, wecomView ? wecomCard(wecomView) : null));
  };

  // refundList shows an order's refunds; one the provider refused gets a
  // retry button (a new refund of the same amount, once; the leader also
  // retries it after a backoff).
  const refundText = { pending: t("处理中", "Pending"), succeeded: t("已退款", "Refunded"), failed: t("失败", "Failed") };
  async function refundList(o) {
    let list = [];
    try { list = (await api("GET", "/api/v1/orders/" + o.id + "/refunds")).refunds; } catch (e) { return null; }
    if (!list.length) return null;
    return h("ul", { class: "full refund-list", id: "refund-list" }, list.map((r) => h("li", { dataset: { status: r.status } },
      yuan(r.amount_fen) + " · " + (refundText[r.status] || r.status) + (r.attempt > 1 ? t(" · 第 " + r.attempt + " 次", " · try " + r.attempt) : "") + " ",
      h("span", { class: "small muted mono" }, r.refund_no),
      r.status === "failed" && !r.retried_by ? [" ", r.retry_at ? h("span", { class: "small muted" }, t("将于 " + SL.fmtTime(r.retry_at) + " 自动重试 ", "auto-retry " + SL.fmtTime(r.retry_at) + " ")) : null,
        h("button", { class: "btn btn-sm btn-primary", type: "button", "data-action": "retry-refund", onclick: async () => {
          try { const x = await api("POST", "/api/v1/orders/" + o.id + "/refunds/retry", { refund_no: r.refund_no }); toast(x.status === "succeeded" ? t("已退款", "Refunded") : t("已重新发起退款", "Refund sent again")); A.closeModal(); A.show("orders"); }
          catch (e) { toast(e.message); }
        } }, t("重试退款", "Retry refund"))] : null,
      r.retried_by ? h("span", { class: "small muted" }, t(" 已重试 ", " retried as ") + r.retried_by) : null)));
  }

  A.refund = async function (o) {
    const left = o.total_fen - o.refunded_fen;
    const key = "refund-" + o.id + "-" + Date.now();
    const past = await refundList(o);
    A.openModal(t("退款 · ", "Refund · ") + o.number, [past,
      h("p", { class: "full small muted" }, t("最多可退 ", "At most ") + yuan(left) + t("；原路退回，到账以支付机构为准。", "; refunded to the original payment; the provider confirms it.")),
      A.field(t("退款金额（元）", "Amount (yuan)"), "amount", (left / 100).toFixed(2), { type: "number", step: "0.01", min: "0.01", max: (left / 100).toFixed(2), required: true }),
      A.field(t("原因", "Reason"), "reason", "", { maxlength: "60" }),
    ], async (form) => {
      const fen = Math.round(Number(form.amount.value) * 100);
      const r = await api("POST", "/api/v1/orders/" + o.id + "/refunds", { amount_fen: fen, reason: form.reason.value }, { "Idempotency-Key": key });
      toast(r.status === "succeeded" ? t("已退款", "Refunded") : t("退款已提交，等待支付机构确认", "Refund sent; waiting for the provider"));
      A.show("orders");
    });
  };
})();
