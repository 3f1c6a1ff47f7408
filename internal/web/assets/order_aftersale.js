// Order page → 售后: the buyer's requests (status, the store's time to
// answer, the decision) and the form to ask for a refund, a return or to
// file a quality complaint with photos.
"use strict";
(function () {
  const { h, t, api, toast, yuan } = SL;
  const page = document.getElementById("order-page");
  const id = Number(page.dataset.order);
  const card = document.getElementById("aftersale-card");
  const list = document.getElementById("aftersale-list");
  const btn = document.getElementById("aftersale-btn");
  const sheet = document.getElementById("aftersale-sheet");
  const backdrop = document.getElementById("sheet-backdrop");
  const kinds = { refund_only: ["仅退款", "Refund only"], return_refund: ["退货退款", "Return and refund"], quality: ["质量投诉", "Quality complaint"] };
  const statusClass = { requested: "amber", refunding: "amber", refunded: "green", refund_failed: "red", rejected: "red", withdrawn: "" };
  const stockText = { written_off: ["退回商品已报损，不再销售", "Returned food written off, not resold"], restocked: ["退回商品已重新上架", "Returned goods back on sale"] };
  let order = null, rules = null, requests = [];

  const before = (o) => o.status === "paid" || o.status === "ready";
  const eligible = (o) => ["paid", "ready", "shipped", "completed"].includes(o.status);
  const open = () => requests.some((r) => r.status === "requested" || r.status === "refunding");
  const kindText = (k) => (kinds[k] ? t(kinds[k][0], kinds[k][1]) : k);
  const reasonText = (code) => { const r = rules && rules.reasons.find((x) => x.code === code); return r ? t(r.zh, r.en) : code; };

  function left(iso) {
    const ms = new Date(iso) - Date.now();
    if (ms <= 0) return t("已到期，系统将自动同意", "Time is up: approved automatically");
    const hrs = Math.floor(ms / 3600000), min = Math.floor((ms % 3600000) / 60000);
    return t("门店将在 " + hrs + " 小时 " + min + " 分内处理", "The store answers within " + hrs + " h " + min + " min");
  }

  function draw() {
    list.replaceChildren(...requests.map((r) => h("div", { class: "aftersale-item", dataset: { status: r.status, id: r.id } },
      h("div", { class: "aftersale-row" },
        h("b", {}, kindText(r.kind)), " ", h("span", { class: "badge " + (statusClass[r.status] || ""), "data-role": "status" }, SL.bi(r.status_label)),
        h("span", { class: "aftersale-amount" }, yuan(r.amount_fen))),
      h("div", { class: "small muted" }, reasonText(r.reason), r.note ? " · " + r.note : ""),
      r.photos.length ? h("div", { class: "thumbs" }, r.photos.map((p) => h("a", { href: p, target: "_blank", rel: "noopener" }, h("img", { src: p, alt: t("照片", "Photo"), width: 56, height: 56 })))) : null,
      r.status === "requested" ? h("div", { class: "small" }, left(r.review_by)) : null,
      r.decision_note && r.status !== "requested" ? h("div", { class: "small muted" }, t("门店：", "Store: ") + r.decision_note) : null,
      stockText[r.stock] ? h("div", { class: "small muted" }, t(stockText[r.stock][0], stockText[r.stock][1])) : null,
      r.status === "requested" ? h("button", { class: "btn btn-ghost btn-sm", type: "button", onclick: () => withdraw(r.id) }, t("撤销申请", "Withdraw")) : null)));
    const show = order && (requests.length > 0 || eligible(order));
    card.classList.toggle("hidden", !show);
    btn.classList.toggle("hidden", !order || !eligible(order) || open());
  }

  async function load() {
    const [r, rs] = await Promise.all([api("GET", "/api/v1/orders/" + id + "/aftersales"), rules ? Promise.resolve(rules) : api("GET", "/api/v1/aftersales/rules")]);
    requests = r.requests; rules = rs;
    draw();
  }

  async function withdraw(rid) {
    if (!confirm(t("确定撤销这个售后申请吗？", "Withdraw this request?"))) return;
    try { await api("POST", "/api/v1/aftersales/" + rid + "/withdraw"); await load(); } catch (e) { toast(e.message); }
  }

  function close() { sheet.classList.add("hidden"); backdrop.classList.add("hidden"); }
  backdrop.addEventListener("click", close);

  function form() {
    const pre = before(order);
    const refundable = order.total_fen - order.refunded_fen;
    let kind = "refund_only";
    const photos = [];
    const reasons = rules.reasons.filter((r) => (pre ? r.before_handover || r.code === "other" : !r.before_handover));
    const reasonSel = h("select", { id: "aftersale-reason", required: true }, h("option", { value: "" }, t("请选择原因", "Choose a reason")),
      reasons.map((r) => h("option", { value: r.code }, t(r.zh, r.en))));
    const qty = {};
    const lineRows = pre ? [] : order.lines.map((l) => {
      const inp = h("input", { type: "number", min: "0", max: String(l.quantity), value: "0", class: "qty-input", "aria-label": SL.itemName(l), "data-sku": l.sku_id,
        oninput: () => { qty[l.sku_id] = Math.max(0, Math.min(l.quantity, Number(inp.value) || 0)); suggest(); } });
      return h("li", {}, h("span", {}, SL.itemName(l), " ", h("small", { class: "muted" }, SL.skuName(l) + " · " + yuan(l.unit_fen) + " × " + l.quantity)), inp);
    });
    const amount = h("input", { type: "number", id: "aftersale-amount", step: "0.01", min: "0.01", max: (refundable / 100).toFixed(2), value: (refundable / 100).toFixed(2), inputmode: "decimal", readonly: pre });
    function suggest() {
      let fen = 0;
      for (const l of order.lines) fen += (qty[l.sku_id] || 0) * l.unit_fen;
      if (fen > 0) amount.value = (Math.min(fen, refundable) / 100).toFixed(2);
    }
    const thumbs = h("div", { class: "thumbs", id: "aftersale-thumbs" });
    const file = h("input", { type: "file", accept: "image/*", id: "aftersale-photo", multiple: true, class: "hidden", onchange: upload });
    const photoBtn = h("button", { class: "btn btn-sm", type: "button", onclick: () => file.click() }, t("＋ 添加照片", "＋ Add photos"));
    async function upload() {
      for (const f of file.files) {
        if (photos.length >= rules.max_photos) break;
        const fd = new FormData(); fd.append("file", f);
        try {
          const res = await fetch("/api/v1/me/uploads", { method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRF-Token": SL.csrf, "Accept-Language": SL.lang === "en" ? "en" : "zh-CN" } });
          const d = await res.json();
          if (!res.ok) throw new Error(d.detail || d.title);
          photos.push(d.url);
          thumbs.append(h("img", { src: d.url, alt: t("照片", "Photo"), width: 64, height: 64 }));
        } catch (e) { toast(e.message); }
      }
      file.value = "";
    }
    const note = h("textarea", { id: "aftersale-note", maxlength: "300", rows: "2", placeholder: t("补充说明（选填）", "More details (optional)") });
    const kindChips = h("div", { class: "chips", id: "aftersale-kinds" }, Object.keys(kinds).map((k) => h("button", {
      type: "button", class: "chip" + (k === kind ? " on" : ""), "data-kind": k, disabled: pre && k !== "refund_only",
      onclick: (ev) => { kind = k; for (const c of kindChips.children) c.classList.toggle("on", c.dataset.kind === k); linesBox.classList.toggle("hidden", pre); photoBox.querySelector("h3").textContent = photoTitle(); },
    }, kindText(k))));
    const photoTitle = () => (kind === "quality" ? t("照片（必填，最多 ", "Photos (required, up to ") : t("照片（选填，最多 ", "Photos (optional, up to ")) + rules.max_photos + t(" 张）", ")");
    const linesBox = h("div", { class: pre ? "hidden" : "" }, h("h3", {}, t("涉及的商品和数量", "Items and quantities")), h("ul", { class: "lines aftersale-lines" }, lineRows));
    const photoBox = h("div", {}, h("h3", {}, photoTitle()), thumbs, photoBtn, file);
    const win = rules.window_hours;
    const hint = pre
      ? t("订单尚未取货：同意后订单取消，全额原路退回。", "Not picked up yet: if the store agrees, the order is cancelled and refunded in full.")
      : t("售后时限：冷藏 " + win.chilled + " 小时、冷冻 " + win.frozen + " 小时、常温 " + Math.round(win.ambient / 24) + " 天（自取货/送达起）。门店 " + rules.review_hours + " 小时内处理，逾期自动同意。退回的冷藏冷冻食品一律报损，不再销售。",
        "Time limits: chilled " + win.chilled + " h, frozen " + win.frozen + " h, ambient " + Math.round(win.ambient / 24) + " days from pickup or delivery. The store answers within " + rules.review_hours + " h, or it is approved automatically. Returned chilled and frozen food is written off, never resold.");
    const err = h("p", { class: "form-error hidden", id: "aftersale-error" });
    const submit = h("button", { class: "btn btn-primary", id: "aftersale-submit", type: "button", onclick: async () => {
      err.classList.add("hidden");
      const body = { kind, reason: reasonSel.value, note: note.value.trim(), photos, amount_fen: Math.round(Number(amount.value) * 100) };
      if (!pre) body.lines = Object.entries(qty).filter(([, q]) => q > 0).map(([sku, q]) => ({ sku_id: Number(sku), quantity: q }));
      submit.disabled = true;
      try {
        await api("POST", "/api/v1/orders/" + id + "/aftersales", body);
        close(); toast(t("已提交，门店会尽快处理", "Sent; the store will answer soon")); await load();
      } catch (e) { err.textContent = e.message + SL.fieldText(e.field); err.classList.remove("hidden"); }
      submit.disabled = false;
    } }, t("提交申请", "Send request"));
    sheet.replaceChildren(
      h("div", { class: "sheet-head" }, h("div", {}, h("b", { id: "aftersale-title" }, t("申请售后", "After-sales request")), h("div", { class: "small muted" }, t("订单 ", "Order ") + order.number)),
        h("button", { class: "close", type: "button", "aria-label": t("关闭", "Close"), onclick: close }, "×")),
      h("p", { class: "small muted" }, hint),
      h("h3", {}, t("类型", "Type")), kindChips,
      h("h3", {}, t("原因", "Reason")), reasonSel,
      linesBox,
      h("h3", {}, t("退款金额（元，最多 ", "Amount (yuan, at most ") + yuan(refundable) + t("）", ")")), amount,
      photoBox,
      h("h3", {}, t("说明", "Note")), note,
      err,
      h("div", { class: "sheet-total" }, h("span", { class: "muted small" }, t("原路退回", "Back to how you paid")), submit));
    sheet.classList.remove("hidden"); backdrop.classList.remove("hidden");
  }

  btn.addEventListener("click", async () => {
    try {
      order = await api("GET", "/api/v1/orders/" + id);
      if (!rules) rules = await api("GET", "/api/v1/aftersales/rules");
      form();
    } catch (e) { toast(e.message); }
  });

  SL.aftersale = { refresh(o) { order = o; load().catch(() => {}); } };
  api("GET", "/api/v1/orders/" + id).then((o) => SL.aftersale.refresh(o)).catch(() => {});
  setInterval(() => { if (requests.some((r) => r.status === "requested")) draw(); }, 30000);
})();
