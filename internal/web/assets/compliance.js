// Compliance review in the consoles: render findings (the claim underlined
// in its text, the law cited, why, what to write instead), and the admin's
// 合规词库 tab (the merchant's own terms, evidence on file, a check box).
"use strict";
(function () {
  const SL = window.SL;
  const { h, t } = SL;
  const sevLabel = { block: ["禁止", "Block", "red"], warn: ["警告", "Warn", "amber"], needs_evidence: ["需证明", "Needs evidence", ""] };
  const sourceLabel = (s) => {
    if (s === "title") return t("直播间标题", "Room title");
    if (s === "script") return t("直播脚本", "Script");
    if (s === "coupon.title") return t("优惠券名称", "Coupon title");
    const m = /^product:(\d+)\.(.+)$/.exec(s || "");
    if (!m) return s || "";
    const field = m[2].startsWith("sku:") ? t("规格 ", "SKU ") + m[2].slice(4)
      : { name: t("名称", "name"), subtitle: t("卖点", "subtitle"), description: t("描述", "description"), specs: t("规格说明", "specs"), ingredients: t("配料", "ingredients"), origin: t("产地", "origin") }[m[2]] || m[2];
    return t("商品 #", "Product #") + m[1] + " · " + field;
  };

  // marked shows text with each finding's span underlined (spans are rune offsets).
  function marked(text, findings) {
    const runes = Array.from(text || "");
    const spans = findings.filter((f) => f.span[1] > f.span[0]).sort((a, b) => a.span[0] - b.span[0]);
    const out = [];
    let at = 0;
    for (const f of spans) {
      if (f.span[0] < at) continue;
      out.push(runes.slice(at, f.span[0]).join(""));
      out.push(h("mark", { class: "cf-" + f.severity, title: f.explanation }, runes.slice(f.span[0], f.span[1]).join("")));
      at = f.span[1];
    }
    out.push(runes.slice(at).join(""));
    return h("p", { class: "cf-text" }, out);
  }

  function findingItem(f) {
    const s = sevLabel[f.severity] || [f.severity, f.severity, ""];
    return h("li", { class: "cf-finding", dataset: { rule: f.rule } },
      h("span", { class: "badge " + s[2] }, t(s[0], s[1])), " ",
      f.match ? h("b", {}, "「" + f.match + "」") : null, " ",
      h("span", {}, SL.lang === "en" ? f.explanation_en || f.explanation : f.explanation),
      h("div", { class: "small muted" }, t("依据：", "Law: ") + (SL.lang === "en" && f.law_en ? f.law_en : f.law)),
      h("div", { class: "small cf-suggest" }, t("建议：", "Suggestion: ") + (SL.lang === "en" && f.suggestion_en ? f.suggestion_en : f.suggestion)));
  }

  // SL.complianceView renders a review ({texts: [{source, text, findings}]})
  // or one result with its text.
  SL.complianceView = function (review) {
    const texts = review.texts || [];
    if (!texts.length) return h("p", { class: "muted" }, t("未发现问题。", "No findings."));
    return h("div", { class: "cf-review" }, texts.map((x) => h("div", { class: "cf-item" },
      h("div", { class: "small muted" }, sourceLabel(x.source)), marked(x.text, x.findings),
      h("ul", { class: "cf-list" }, x.findings.map(findingItem)))));
  };
  SL.complianceFindings = (text, findings) => SL.complianceView({ texts: [{ source: "", text, findings }] });

  // SL.complianceGuard is a form's box for a save a live room would show
  // (a room's title or lineup, a product's texts): refused with 409
  // compliance_blocked, it shows the review; an owner may then give a
  // reason and save again (the override is audited). save(override) runs
  // the request; run() returns its answer or throws with the form kept open.
  SL.complianceGuard = function (role) {
    const box = h("div", { class: "full hidden cf-guard", id: "cf-guard" });
    const reason = h("input", { name: "cf_reason", id: "cf-guard-reason", maxlength: "200", placeholder: t("仍要发布的理由（记入操作日志）", "Reason to publish anyway (audited)") });
    return {
      el: box,
      async run(save) {
        const why = reason.value.trim();
        try { return await save(why ? { reason: why } : undefined); } catch (e) {
          if (e.code !== "compliance_blocked" || !e.problem || !e.problem.review) throw e;
          box.replaceChildren(
            h("p", { class: "form-error" }, t("正在直播的直播间会展示这些文案，其中含禁止用语，未保存。", "A live room would show these texts; they have blocking claims and were not saved.")),
            SL.complianceView(e.problem.review),
            role === "owner" ? h("label", { class: "full" }, t("店主强制发布：填写理由后再点保存", "Owner override: give a reason and save again"), reason)
              : h("p", { class: "small muted" }, t("只有店主可以强制发布。", "Only an owner can override.")));
          box.classList.remove("hidden");
          box.scrollIntoView({ block: "nearest" });
          throw new Error(t("含禁止用语，未保存", "Blocking claims: not saved"));
        }
      },
    };
  };

  // SL.couponReview is the box beside a coupon form (Admin 优惠券, the
  // studio) for a title the review refuses: a coupon's title cannot be
  // edited later, so 409 compliance_blocked creates nothing and show(review)
  // lists the findings while the form keeps what was typed. An owner gets a
  // reason field whose confirm calls retry({reason}), which sends the same
  // coupon with override (audited as coupon.create.override); other roles
  // read that an owner must approve. Editing title hides the box: an
  // override answers the findings shown, of the title reviewed.
  SL.couponReview = function (role, title, retry) {
    const box = h("div", { class: "cf-panel coupon-review hidden", id: "coupon-review", "aria-live": "polite" });
    title.addEventListener("input", () => box.classList.add("hidden"));
    return {
      el: box,
      show(review) {
        const reason = h("input", { id: "coupon-override-reason", maxlength: "200", placeholder: t("仍要创建的理由（记入操作日志）", "Reason to create it anyway (audited)") });
        box.replaceChildren(
          h("h3", {}, "⚠ " + t("券名未通过合规审查，未创建", "Title refused by the compliance review: not created")),
          h("p", { class: "small muted" }, t("券卡推送或发券后顾客就能看到券名，且不能再改。请按建议改写后重新创建。", "Customers read the title once the card is pushed or the coupon issued, and it cannot be changed later. Rewrite it as suggested and create again.")),
          SL.complianceView(review),
          role === "owner" ? h("form", { class: "row-form", id: "coupon-override", onsubmit: (ev) => {
            ev.preventDefault();
            if (reason.value.trim()) retry({ reason: reason.value.trim() }); else reason.focus();
          } }, reason, h("button", { class: "btn btn-danger btn-sm", type: "submit" }, t("店主确认创建", "Create anyway (owner)")))
            : h("p", { class: "small", id: "coupon-owner-needed" }, t("需要店主批准：只有店主可以填写理由后仍然创建。", "An owner must approve: only an owner can create it anyway, with a reason.")));
        box.classList.remove("hidden");
        box.scrollIntoView({ block: "nearest" });
      },
    };
  };

  SL.adminTabs = SL.adminTabs || {};
  SL.adminTabs.compliance = async function (c) {
    const { main, api, toast, table, toolbar, badge, fmt, show } = c;
    const r = await api("GET", "/api/v1/compliance/rules");
    const kindLabel = { trademark: t("注册商标", "Trademark"), ranking: t("排名/获奖出处", "Ranking source"), certificate: t("称号证书", "Title certificate"),
      health_food_approval: t("保健食品批准文号", "Health-food approval"), nutrition_test: t("营养检测报告", "Nutrition test"), organic_cert: t("有机认证", "Organic certificate"),
      green_cert: t("绿色食品证书", "Green Food licence"), origin_cert: t("产地/地理标志证明", "Origin / GI"), previous_price: t("前7日成交价记录", "7-day price record") };
    const act = (label, cls, fn) => h("button", { class: "btn btn-sm " + (cls || ""), type: "button", onclick: async () => { try { await fn(); } catch (e) { toast(e.message); } } }, label);
    const out = h("div", { id: "cf-check-out" });
    const checkForm = h("form", { class: "card", id: "cf-check", onsubmit: async (ev) => {
      ev.preventDefault();
      const text = checkForm.text.value.trim();
      if (!text) return;
      try {
        const res = await api("POST", "/api/v1/compliance/check", { texts: [text], context: checkForm.context.value, product_type: checkForm.ptype.value });
        out.replaceChildren(SL.complianceFindings(text, res.results[0].findings));
      } catch (e) { toast(e.message); }
    } }, h("h3", {}, t("检查文案", "Check a text")),
      h("textarea", { name: "text", rows: "3", class: "full", placeholder: t("粘贴标题、卖点、描述或话术…", "Paste a title, description or script…") }),
      h("div", { class: "row-form" },
        h("select", { name: "context" }, [["product", t("商品文案", "Product text")], ["title", t("直播间标题", "Room title")], ["script", t("直播脚本", "Script")], ["comment", t("直播评论", "Comment")]].map(([v, l]) => h("option", { value: v }, l))),
        h("select", { name: "ptype" }, [["ordinary_food", t("普通食品", "Ordinary food")], ["health_food", t("保健食品", "Health food")], ["none", t("非食品", "Not food")]].map(([v, l]) => h("option", { value: v }, l))),
        h("button", { class: "btn btn-primary", type: "submit" }, t("检查", "Check"))), out);
    const termForm = h("form", { class: "row-form", onsubmit: async (ev) => {
      ev.preventDefault();
      try { await api("POST", "/api/v1/compliance/terms", { term: termForm.term.value, severity: termForm.severity.value, explanation: termForm.explanation.value }); toast(t("已添加", "Added")); show("compliance"); } catch (e) { toast(e.message); }
    } }, h("input", { name: "term", required: true, maxlength: "40", placeholder: t("词语", "Term") }),
      h("select", { name: "severity" }, [["block", t("禁止", "Block")], ["warn", t("警告", "Warn")], ["needs_evidence", t("需证明", "Needs evidence")], ["allow", t("允许", "Allow")]].map(([v, l]) => h("option", { value: v }, l))),
      h("input", { name: "explanation", maxlength: "200", placeholder: t("说明（可选）", "Why (optional)") }),
      h("button", { class: "btn", type: "submit" }, t("添加词语", "Add term")));
    const evForm = h("form", { class: "row-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const body = { kind: evForm.kind.value, term: evForm.term.value, reference: evForm.reference.value };
      if (evForm.until.value) body.valid_until = new Date(evForm.until.value + "T23:59:59+08:00").toISOString();
      try { await api("POST", "/api/v1/compliance/evidence", body); toast(t("已存档", "Filed")); show("compliance"); } catch (e) { toast(e.message); }
    } }, h("select", { name: "kind" }, r.evidence_kinds.map((k) => h("option", { value: k }, kindLabel[k] || k))),
      h("input", { name: "term", maxlength: "40", placeholder: t("对应说法，如“第一坊”“销量第一”", "Claim it backs, e.g. a trademark") }),
      h("input", { name: "reference", required: true, maxlength: "200", placeholder: t("证书编号或出处", "Certificate no. or source") }),
      h("input", { name: "until", type: "date", "aria-label": t("有效期至", "Valid until") }),
      h("button", { class: "btn", type: "submit" }, t("存档证明", "File evidence")));
    const sev = (s) => { const x = sevLabel[s] || [t("允许", "Allow"), "Allow", "green"]; return badge(t(x[0], x[1]), x[2]); };
    main.replaceChildren(
      toolbar(t("合规词库", "Compliance"), h("span", { class: "muted small" }, t("基础规则版本 ", "Base rules ") + r.version + " · " + r.rules.length + t(" 条", " rules"))),
      checkForm,
      h("div", { class: "card" }, h("h3", {}, t("本店词语", "Our own terms")), termForm,
        r.terms.length ? table([t("词语", "Term"), t("级别", "Severity"), t("说明", "Why"), t("添加人", "By"), ""],
          r.terms.map((x) => h("tr", {}, h("td", {}, h("b", {}, x.term)), h("td", {}, sev(x.severity)), h("td", { class: "small" }, x.explanation || ""), h("td", { class: "small" }, x.created_by + " · " + fmt(x.created_at)),
            h("td", {}, act(t("删除", "Delete"), "btn-danger", async () => { await api("DELETE", "/api/v1/compliance/terms/" + x.id); show("compliance"); })))))
          : h("p", { class: "muted" }, t("还没有自定义词语。", "No terms of your own yet."))),
      h("div", { class: "card" }, h("h3", {}, t("证明材料", "Evidence on file")),
        h("p", { class: "small muted" }, t("注册商标的文字不再按绝对化用语处理；证书、榜单出处、检测报告、前7日成交价记录让“需证明”的说法通过。", "A registered trademark's text is exempt; certificates, ranking sources, test reports and 7-day price records turn needs-evidence claims into ok.")),
        evForm,
        r.evidence.length ? table([t("类型", "Kind"), t("对应说法", "Claim"), t("编号/出处", "Reference"), t("有效期至", "Valid until"), ""],
          r.evidence.map((x) => h("tr", {}, h("td", {}, kindLabel[x.kind] || x.kind), h("td", {}, x.term || t("（全部）", "(all)")), h("td", { class: "small" }, x.reference),
            h("td", { class: "small" }, x.valid_until ? fmt(x.valid_until) : "—"),
            h("td", {}, act(t("删除", "Delete"), "btn-danger", async () => { await api("DELETE", "/api/v1/compliance/evidence/" + x.id); show("compliance"); })))))
          : h("p", { class: "muted" }, t("还没有存档的证明。", "No evidence on file yet."))));
  };
})();
