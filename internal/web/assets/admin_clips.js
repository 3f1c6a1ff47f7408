// Admin → 短视频 Clips: each product's explanation cut from a live (status,
// length, its page), retitle and hide; and → 佣金比例 Commission rates: the
// guides' rate table (default, per category, per product) as a form over
// PUT /api/v1/commission/rates. Registered into admin.js's tabs.
"use strict";
(function () {
  const SL = window.SL;
  SL.adminTabs = SL.adminTabs || {};

  SL.adminTabs.clips = async function (c) {
    const { main, h, t, api, toast, table, toolbar, badge, fmt, show } = c;
    const [r, ps] = await Promise.all([api("GET", "/api/v1/clips"), api("GET", "/api/v1/products")]);
    const names = new Map(ps.products.map((p) => [p.id, SL.pname(p)]));
    const status = { ready: badge(t("已生成", "Ready"), "green"), pending: badge(t("剪辑中", "Cutting"), "amber"), failed: badge(t("失败", "Failed"), "red") };
    const rows = r.clips.map((x) => {
      const title = h("input", { value: x.title || "", placeholder: names.get(x.product_id) || "", maxlength: "40", dataset: { clipTitle: x.id } });
      const save = async (body, msg) => { try { await api("PATCH", "/api/v1/clips/" + x.id, body); toast(msg); show("clips"); } catch (e) { toast(e.message); } };
      return h("tr", { dataset: { clip: x.id } },
        h("td", {}, fmt(x.pinned_at)), h("td", {}, x.room_slug), h("td", {}, names.get(x.product_id) || "#" + x.product_id),
        h("td", {}, title, " ", h("button", { class: "btn btn-sm", type: "button", dataset: { clipSave: x.id }, onclick: () => save({ title: title.value }, t("标题已保存", "Title saved")) }, t("保存", "Save"))),
        h("td", {}, status[x.status] || x.status, x.error ? h("div", { class: "small muted" }, x.error) : null),
        h("td", {}, x.duration_ms ? (x.duration_ms / 1000).toFixed(1) + t(" 秒", " s") : "—"),
        h("td", {}, x.hidden ? badge(t("已隐藏", "Hidden"), "red") : badge(t("公开", "Public"), "green")),
        h("td", {}, h("button", { class: "btn btn-sm", type: "button", dataset: { clipHide: x.id }, onclick: () => save({ hidden: !x.hidden }, x.hidden ? t("已公开", "Shown") : t("已隐藏", "Hidden")) }, x.hidden ? t("公开", "Show") : t("隐藏", "Hide")), " ",
          x.status === "ready" ? h("a", { class: "btn btn-sm btn-ghost", href: "/clips/" + x.id, target: "_blank", rel: "noopener" }, t("查看", "Open")) : null));
    });
    main.replaceChildren(toolbar(t("讲解短视频", "Product clips")),
      h("p", { class: "muted small" }, t("直播结束后，每次挂出商品卡（前 3 秒到换卡或下卡）自动剪成一段短视频，不重新编码。隐藏后观众看不到；标题留空则显示商品名。", "After a live, each time a product card was up (3 s before it to the next card or its removal) becomes a clip, cut without re-encoding. Hidden clips are not shown to viewers; an empty title shows the product's name.")),
      r.clips.length === 0 ? h("p", { class: "muted" }, t("还没有短视频：挂过商品卡的直播结束后会自动生成。", "No clips yet: they are cut after a live in which cards were pinned.")) :
        table([t("挂卡时间", "Pinned"), t("直播间", "Room"), t("商品", "Product"), t("标题", "Title"), t("状态", "Status"), t("时长", "Length"), t("可见", "Visible"), ""], rows));
  };

  SL.adminTabs.commission = async function (c) {
    const { main, h, t, api, toast, table, toolbar, show } = c;
    const [r, ps] = await Promise.all([api("GET", "/api/v1/commission/rates"), api("GET", "/api/v1/products")]);
    const cats = [...new Set(ps.products.map((p) => p.category).filter(Boolean))].sort();
    const list = h("datalist", { id: "commission-cats" }, cats.map((x) => h("option", { value: x })));
    const body = h("tbody", { id: "commission-rows" });
    const pct = (bp) => (bp / 100).toFixed(2).replace(/\.?0+$/, "");
    function row(rate) {
      const kind = h("select", { class: "cr-kind" }, h("option", { value: "product" }, t("商品", "Product")), h("option", { value: "category" }, t("品类", "Category")));
      kind.value = rate.product_id ? "product" : "category";
      const prod = h("select", { class: "cr-product" }, ps.products.map((p) => h("option", { value: p.id }, SL.pname(p))));
      if (rate.product_id) prod.value = rate.product_id;
      const cat = h("input", { class: "cr-category", list: "commission-cats", value: rate.category || "", placeholder: t("如 水果", "e.g. 水果"), maxlength: "20" });
      const value = h("input", { class: "cr-rate", type: "number", min: "0", max: "50", step: "0.01", value: pct(rate.rate_bp || 0) });
      const sync = () => { prod.classList.toggle("hidden", kind.value !== "product"); cat.classList.toggle("hidden", kind.value !== "category"); };
      kind.addEventListener("change", sync); sync();
      const tr = h("tr", { class: "cr-row" }, h("td", {}, kind), h("td", {}, prod, cat), h("td", {}, value, " %"),
        h("td", {}, h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => tr.remove() }, t("删除", "Remove"))));
      return tr;
    }
    const def = r.rates.find((x) => !x.product_id && !x.category);
    const defInput = h("input", { id: "commission-default", type: "number", min: "0", max: "50", step: "0.01", value: def ? pct(def.rate_bp) : "" });
    body.replaceChildren(...r.rates.filter((x) => x.product_id || x.category).map(row));
    const err = h("p", { class: "form-error hidden", id: "commission-error", role: "alert" });
    const bp = (v) => Math.round(parseFloat(v) * 100);
    async function save() {
      err.classList.add("hidden");
      const rates = [];
      if (defInput.value !== "") rates.push({ rate_bp: bp(defInput.value) });
      for (const tr of body.querySelectorAll(".cr-row")) {
        const kind = tr.querySelector(".cr-kind").value, v = tr.querySelector(".cr-rate").value;
        if (v === "") continue;
        rates.push(kind === "product" ? { product_id: Number(tr.querySelector(".cr-product").value), rate_bp: bp(v) } : { category: tr.querySelector(".cr-category").value.trim(), rate_bp: bp(v) });
      }
      try { await api("PUT", "/api/v1/commission/rates", { rates }); toast(t("佣金比例已保存", "Commission rates saved")); show("commission"); }
      catch (e) { err.textContent = e.message + SL.fieldText(e.field); err.classList.remove("hidden"); }
    }
    main.replaceChildren(toolbar(t("导购佣金比例", "Guide commission rates")),
      h("section", { class: "card", id: "commission-form" },
        h("p", { class: "muted small" }, t("导购分享链接带来的订单按比例计佣：商品的比例优先，其次品类，最后默认；0–50%。月度对账单在“导购业绩”里下载。", "Orders a guide's share link brought in earn commission: a product's rate first, then its category's, then the default; 0–50 %. Download the monthly statement under Guide sales.")),
        h("label", {}, t("默认比例（%）", "Default rate (%)"), " ", defInput),
        list,
        table([t("针对", "For"), t("商品或品类", "Product or category"), t("比例", "Rate"), ""], []),
        err,
        h("div", { class: "row-form" },
          h("button", { class: "btn btn-sm", type: "button", id: "commission-add", onclick: () => body.append(row({ category: cats[0] || "", rate_bp: 0 })) }, t("添加一条", "Add a rate")),
          h("button", { class: "btn btn-primary btn-sm", type: "button", id: "commission-save", onclick: save }, t("保存", "Save")))));
    main.querySelector("#commission-form table").append(body);
  };
})();
