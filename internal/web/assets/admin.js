// Admin console: orders, products, lots & stock, stores, rooms, staff, audit.
// Every change goes through the same JSON API as automation does.
"use strict";
(function () {
  const { h, t, api, yuan, toast } = SL;
  const $ = (id) => document.getElementById(id);
  const main = $("admin-main");
  const modal = $("modal"), backdrop = $("sheet-backdrop");
  const role = $("admin").dataset.role;
  let storesCache = [], productsCache = [];

  const closeModal = () => { modal.classList.add("hidden"); backdrop.classList.add("hidden"); };
  backdrop.addEventListener("click", closeModal);
  function openModal(title, fields, onSave) {
    const err = h("p", { class: "form-error hidden", role: "alert" });
    const form = h("form", { onsubmit: async (ev) => {
      ev.preventDefault(); err.classList.add("hidden");
      try { await onSave(form); closeModal(); } catch (e) { err.textContent = e.message + SL.fieldText(e.field); err.classList.remove("hidden"); }
    } }, h("h2", {}, title), h("div", { class: "form-grid" }, fields), err,
      h("div", { class: "modal-actions" }, h("button", { class: "btn btn-ghost", type: "button", onclick: closeModal }, t("取消", "Cancel")), h("button", { class: "btn btn-primary", type: "submit" }, t("保存", "Save"))));
    modal.replaceChildren(form); modal.classList.remove("hidden"); backdrop.classList.remove("hidden");
  }
  const field = (label, name, value, attrs) => {
    const v = value === undefined || value === null ? "" : value;
    const el = h(attrs && attrs.textarea ? "textarea" : "input", Object.assign({ name }, attrs && attrs.textarea ? {} : { value: v }, attrs || {}, { full: null, textarea: null }));
    if (attrs && attrs.textarea) el.value = v; // a textarea's text is its content, not an attribute
    return h("label", { class: (attrs && attrs.full) ? "full" : "" }, label, el);
  };
  const select = (label, name, options, value) => h("label", {}, label, h("select", { name }, options.map(([v, l]) => h("option", { value: v, selected: String(v) === String(value) }, l))));
  const table = (heads, rows) => h("div", { class: "table-wrap" }, h("table", { class: "data" }, h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))), h("tbody", {}, rows)));
  const toolbar = (title, ...actions) => h("div", { class: "admin-toolbar" }, h("h1", {}, title), h("div", {}, actions));
  const badge = (text, cls) => h("span", { class: "badge " + (cls || "") }, text);
  const fmt = SL.fmtTime;

  const statusCls = { pending_payment: "amber", paid: "green", ready: "green", shipped: "green", completed: "", cancelled: "red", expired: "red" };

  const tabs = {
    async orders() {
      const filter = new URLSearchParams(location.hash.split("?")[1] || "").get("status") || "";
      const r = await api("GET", "/api/v1/orders" + (filter ? "?status=" + filter : ""));
      const storeName = (id) => SL.sname(storesCache.find((s) => s.id === id)) || "#" + id;
      const act = (o, status, label, cls) => h("button", { class: "btn btn-sm " + (cls || ""), type: "button", onclick: async () => {
        if (status === "cancelled" && !confirm(t("取消并全额退款？", "Cancel and refund in full?"))) return;
        try { await api("POST", "/api/v1/orders/" + o.id + "/status", { status }); toast(t("已更新", "Updated")); show("orders"); } catch (e) { toast(e.message); }
      } }, label);
      main.replaceChildren(
        toolbar(t("订单", "Orders"), h("button", { class: "btn", type: "button", id: "packing-list", onclick: packingList }, t("配送拣货单", "Packing list")), " ", select("", "status", [["", t("全部状态", "All statuses")], ["pending_payment", t("待支付", "Awaiting payment")], ["paid", t("已支付", "Paid")], ["ready", t("待取货", "Ready")], ["completed", t("已完成", "Completed")], ["cancelled", t("已取消", "Cancelled")]], filter)),
        table([t("订单号", "Number"), t("时间", "Time"), t("商品", "Items"), t("金额", "Total"), t("方式", "Fulfilment"), t("联系人", "Contact"), t("状态", "Status"), ""],
          r.orders.map((o) => h("tr", {},
            h("td", { class: "mono" }, o.number), h("td", {}, fmt(o.created_at)),
            h("td", {}, o.lines.map((l) => SL.itemName(l) + "×" + l.quantity).join("，")), h("td", {}, yuan(o.total_fen), o.refunded_fen ? h("div", { class: "small muted" }, t("退 ", "Refunded ") + yuan(o.refunded_fen)) : null),
            h("td", {}, o.fulfilment === "pickup" ? t("自提 · ", "Pickup · ") + storeName(o.store_id) : t("配送", "Delivery")),
            h("td", {}, o.contact_phone || ""), h("td", {}, badge(SL.bi(o.status_label), statusCls[o.status])),
            h("td", {}, o.status === "paid" && o.fulfilment === "pickup" ? act(o, "ready", t("备货完成", "Mark ready"), "btn-primary") : null,
              o.status === "paid" && o.fulfilment === "delivery" && SL.admin.ship ? h("button", { class: "btn btn-sm btn-primary", type: "button", "data-action": "ship", onclick: () => SL.admin.ship(o) }, t("发货", "Ship")) : null,
              ["shipped", "completed"].includes(o.status) && o.fulfilment === "delivery" && SL.admin.tracking ? h("button", { class: "btn btn-sm", type: "button", "data-action": "tracking", onclick: () => SL.admin.tracking(o) }, t("物流", "Tracking")) : null,
              o.status === "shipped" ? act(o, "completed", t("已送达", "Delivered")) : null,
              ["paid", "ready", "shipped", "completed"].includes(o.status) && o.refunded_fen < o.total_fen && SL.admin.refund ? h("button", { class: "btn btn-sm", type: "button", onclick: () => SL.admin.refund(o) }, t("部分退款", "Refund part")) : null,
              ["paid", "ready", "pending_payment"].includes(o.status) ? act(o, "cancelled", t("取消/退款", "Cancel/refund"), "btn-danger") : null))))
      );
      main.querySelector("select").addEventListener("change", (ev) => { location.hash = "orders?status=" + ev.target.value; });
    },

    async products() {
      const r = await api("GET", "/api/v1/products");
      productsCache = r.products;
      main.replaceChildren(
        toolbar(t("商品", "Products"), h("button", { class: "btn", type: "button", id: "import-products", onclick: importProducts }, t("导入 CSV", "Import CSV")), " ",
          h("button", { class: "btn btn-primary", type: "button", onclick: () => editProduct(null) }, t("新建商品", "New product"))),
        table(["", t("名称", "Name"), t("规格与价格", "SKUs & prices"), t("可售", "Available"), t("储存", "Storage"), t("产地", "Origin"), ""],
          r.products.map((p) => h("tr", {}, h("td", {}, p.image ? h("img", { src: p.image, alt: "" }) : null), h("td", {}, h("b", {}, p.name), h("div", { class: "small muted" }, p.name_en || "")),
            h("td", {}, p.skus.map((k) => h("div", { class: "small" }, SL.kname(k) + " · " + yuan(k.price_fen)))), h("td", {}, p.skus.reduce((n, k) => n + k.available, 0)),
            h("td", {}, badge({ chilled: t("冷藏", "Chilled"), frozen: t("冷冻", "Frozen"), ambient: t("常温", "Ambient") }[p.storage])), h("td", { class: "small" }, p.origin),
            h("td", {}, h("button", { class: "btn btn-sm edit-product", type: "button", dataset: { id: p.id }, onclick: () => editProduct(p) }, t("编辑", "Edit"))))))
      );
    },

    async lots() {
      const [lots, prods, levels] = await Promise.all([api("GET", "/api/v1/lots"), api("GET", "/api/v1/products"), api("GET", "/api/v1/stock")]);
      productsCache = prods.products;
      const skuName = {}; for (const p of prods.products) for (const k of p.skus) skuName[k.id] = SL.pname(p) + " · " + SL.kname(k);
      const byLot = {}; for (const l of levels.levels) (byLot[l.lot_id] = byLot[l.lot_id] || []).push(l);
      const storeName = (id) => SL.sname(storesCache.find((s) => s.id === id)) || "#" + id;
      main.replaceChildren(
        toolbar(t("批次与库存", "Lots & stock"), h("button", { class: "btn", type: "button", id: "import-stock", onclick: importStock }, t("导入盘点 CSV", "Import stock count")), " ",
          h("button", { class: "btn btn-primary", type: "button", onclick: newLot }, t("新建批次", "New lot"))),
        table([t("批次", "Lot"), t("商品", "Product"), t("生产", "Produced"), t("到期", "Expires"), t("各门店库存（在库/已预订）", "Stock per store (on hand / reserved)"), t("状态", "State"), ""],
          lots.lots.map((l) => h("tr", {}, h("td", { class: "mono" }, l.code), h("td", {}, skuName[l.sku_id] || l.sku_id),
            h("td", {}, fmt(l.produced_at)), h("td", {}, fmt(l.expires_at)),
            h("td", { class: "small" }, (byLot[l.id] || []).map((s) => h("div", { dataset: { store: s.store_id } }, storeName(s.store_id) + "：" + s.on_hand + " / " + s.reserved + " ",
              s.store_hold ? badge(t("本店暂停", "Held here"), "red") : null, " ",
              h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => setStock(l, s.store_id, s.on_hand) }, t("调整", "Adjust")),
              l.hold ? null : h("button", { class: "btn btn-sm btn-ghost", type: "button", "data-action": s.store_hold ? "release-store" : "hold-store", onclick: () => holdStore(l, s.store_id, !s.store_hold) },
                s.store_hold ? t("本店放行", "Release here") : t("本店暂停", "Hold here")))),
              h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => setStock(l, 0, 0) }, "+ " + t("门店", "store"))),
            h("td", {}, l.hold ? badge(t("整批暂停销售", "Whole lot on hold") + (l.hold_reason ? "：" + l.hold_reason : ""), "red")
              : (l.held_stores || []).length ? badge(t("部分门店暂停（" + l.held_stores.length + " 家）", "Held in " + l.held_stores.length + " store(s)"), "amber")
              : new Date(l.expires_at) < new Date() ? badge(t("已过期", "Expired"), "amber") : badge(t("可售", "Sellable"), "green")),
            h("td", {}, h("button", { class: "btn btn-sm " + (l.hold ? "" : "btn-danger"), type: "button", "data-action": l.hold ? "release-lot" : "hold-lot", onclick: () => hold(l) },
              l.hold ? t("解除暂停", "Release") : (l.held_stores || []).length ? t("扩大到整批", "Widen to the lot") : t("整批暂停", "Hold the lot"))))))
      );
    },

    async stores() {
      const r = await api("GET", "/api/v1/stores");
      storesCache = r.stores;
      main.replaceChildren(
        toolbar(t("门店", "Stores"), h("button", { class: "btn btn-primary", type: "button", onclick: () => editStore(null) }, t("新建门店", "New store"))),
        table([t("名称", "Name"), t("地址", "Address"), t("坐标", "Location"), t("营业时间", "Hours"), t("配送", "Delivery"), ""],
          r.stores.map((s) => h("tr", {}, h("td", {}, h("b", {}, s.name), h("div", { class: "small muted" }, s.name_en || "")), h("td", { class: "small" }, s.address), h("td", { class: "small mono" }, s.lat.toFixed(4) + ", " + s.lng.toFixed(4)),
            h("td", {}, s.hours), h("td", {}, s.delivery ? badge(t("是", "Yes"), "green") : ""), h("td", {}, h("button", { class: "btn btn-sm", type: "button", onclick: () => editStore(s) }, t("编辑", "Edit"))))))
      );
    },

    async rooms() {
      const r = await api("GET", "/api/v1/rooms");
      main.replaceChildren(
        toolbar(t("直播间", "Rooms"), h("button", { class: "btn btn-primary", type: "button", onclick: () => editRoom(null) }, t("新建直播间", "New room"))),
        table([t("标题", "Title"), t("地址", "Link"), t("主播", "Host"), t("计划时间", "Scheduled"), t("状态", "Status"), t("商品数", "Products"), ""],
          r.rooms.map((x) => h("tr", {}, h("td", {}, h("b", {}, x.title), h("div", { class: "small muted" }, x.title_en || "")), h("td", { class: "room-share" }, h("img", { class: "room-qr-thumb", src: "/qr/room/" + x.slug, alt: t("二维码", "QR code"), width: 56, height: 56, loading: "lazy" }),
              h("span", {}, h("a", { href: "/live/" + x.slug, target: "_blank", rel: "noopener" }, "/live/" + x.slug), h("br"),
                h("a", { href: "/poster/" + x.slug, target: "_blank", rel: "noopener", class: "small" }, t("海报", "Poster")), " · ",
                h("a", { href: "/qr/room/" + x.slug, download: x.slug + "-qr.png", class: "small" }, t("二维码", "QR code")))),
            h("td", {}, x.host_name), h("td", {}, x.scheduled_at ? fmt(x.scheduled_at) : "—"),
            h("td", {}, badge({ live: t("直播中", "Live"), scheduled: t("未开始", "Scheduled"), ended: t("已结束", "Ended") }[x.status], x.status === "live" ? "red" : "")),
            h("td", {}, x.product_ids.length),
            h("td", {}, h("button", { class: "btn btn-sm", type: "button", onclick: () => editRoom(x) }, t("编辑", "Edit")), " ",
              x.status !== "live" ? h("button", { class: "btn btn-sm btn-primary", type: "button", onclick: () => roomStatus(x, "live") }, t("开播", "Go live")) : h("button", { class: "btn btn-sm btn-danger", type: "button", onclick: () => roomStatus(x, "ended") }, t("结束", "End"))))))
      );
    },

    async staff() {
      const r = await api("GET", "/api/v1/staff");
      main.replaceChildren(
        toolbar(t("员工与角色", "Staff & roles"),
          h("button", { class: "btn btn-primary", type: "button", id: "invite-staff", onclick: inviteStaff }, t("邀请员工", "Invite staff")), " ",
          h("button", { class: "btn", type: "button", onclick: () => editStaff(null) }, t("直接添加", "Add directly"))),
        table([t("姓名", "Name"), t("用户名", "Username"), t("手机", "Phone"), t("角色", "Role"), t("门店", "Store"), t("导购码", "Guide code"), t("状态", "State"), ""],
          r.staff.map((s) => h("tr", {}, h("td", {}, h("b", {}, s.name)), h("td", { class: "mono" }, s.username), h("td", {}, s.phone || ""), h("td", {}, badge(roleLabel[s.role] || s.role)),
            h("td", {}, s.store_id ? SL.sname(storesCache.find((x) => x.id === s.store_id)) || s.store_id : "—"), h("td", { class: "mono" }, s.guide_code || ""),
            h("td", {}, s.disabled ? badge(t("停用", "Disabled"), "red") : badge(t("正常", "Active"), "green")),
            h("td", {}, h("button", { class: "btn btn-sm", type: "button", onclick: () => editStaff(s) }, t("编辑", "Edit")), " ",
              h("button", { class: "btn btn-sm", type: "button", dataset: { reset: s.username }, onclick: () => resetLink(s) }, t("重置密码链接", "Reset link"))))))
      );
    },

    // What each store guide's share links brought in, for a date range.
    async guides() {
      const q = new URLSearchParams(location.hash.split("?")[1] || "");
      const r = await api("GET", "/api/v1/reports/guides" + (q.toString() ? "?" + q : ""));
      const storeName = (id) => SL.sname(storesCache.find((s) => s.id === id));
      const from = h("input", { type: "date", id: "guides-from", value: r.from }), to = h("input", { type: "date", id: "guides-to", value: r.to });
      const apply = () => { location.hash = "guides?from=" + from.value + "&to=" + to.value; };
      const total = r.guides.reduce((n, g) => n + g.revenue_fen, 0);
      main.replaceChildren(
        toolbar(t("导购业绩", "Guide sales"), h("div", { class: "date-range" }, from, "–", to, h("button", { class: "btn", type: "button", onclick: apply }, t("查询", "Show")))),
        r.guides.length === 0 ? h("p", { class: "muted" }, t("这段时间没有通过导购分享链接下的订单。", "No orders came through a guide's share link in these days.")) :
          table([t("导购", "Guide"), t("编码", "Code"), t("门店", "Store"), t("订单", "Orders"), t("已支付", "Paid"), t("成交额", "Revenue")],
            r.guides.map((g) => h("tr", {}, h("td", {}, g.guide_name || h("span", { class: "muted" }, t("（已无此导购）", "(no such guide now)"))), h("td", { class: "mono" }, g.guide_code),
              h("td", {}, storeName(g.store_id)), h("td", {}, g.orders), h("td", {}, g.paid_orders), h("td", {}, h("b", {}, yuan(g.revenue_fen))))).concat(
              [h("tr", {}, h("td", { colspan: "5" }, t("合计", "Total")), h("td", {}, h("b", {}, yuan(total))))])),
        h("p", { class: "small", id: "commission-downloads" }, t("佣金对账单（按月，每位导购每个门店）：", "Commission statement (monthly, per guide and store): "),
          h("input", { type: "month", id: "commission-month", value: (r.to || "").slice(0, 7) }), " ",
          h("a", { href: "#", id: "commission-csv", onclick: (e) => { e.currentTarget.href = "/api/v1/reports/commission.csv?month=" + $("commission-month").value; } }, "CSV"), " · ",
          h("a", { href: "#", id: "commission-xlsx", onclick: (e) => { e.currentTarget.href = "/api/v1/reports/commission.xlsx?month=" + $("commission-month").value; } }, "Excel"), " · ",
          h("a", { href: "#commission", id: "commission-rates-link" }, t("设置佣金比例（默认、品类、商品）", "Set the commission rates (default, category, product)"))));
    },

    // Stores as studios, side by side: each store's rooms and trade.
    async studios() {
      const q = new URLSearchParams(location.hash.split("?")[1] || "");
      const r = await api("GET", "/api/v1/reports/stores" + (q.toString() ? "?" + q : ""));
      const from = h("input", { type: "date", id: "studios-from", value: r.from }), to = h("input", { type: "date", id: "studios-to", value: r.to });
      const apply = () => { location.hash = "studios?from=" + from.value + "&to=" + to.value; };
      const best = Math.max(1, ...r.stores.map((x) => x.gmv_fen));
      const bar = (fen) => h("span", { class: "gmv-bar", style: null, dataset: { w: Math.round(fen * 100 / best) } });
      main.replaceChildren(
        toolbar(t("门店对比", "Stores side by side"), h("div", { class: "date-range" }, from, "–", to, h("button", { class: "btn", type: "button", onclick: apply }, t("查询", "Show")))),
        table([t("门店", "Store"), t("直播间", "Rooms"), t("直播中", "Live now"), t("订单", "Orders"), t("已支付", "Paid"), t("成交额 (GMV)", "GMV"), ""],
          r.stores.map((x) => h("tr", { dataset: { store: x.store_id } }, h("td", {}, h("b", {}, x.store_id ? SL.sname(x) : t("品牌直播间（不属于门店）", "Brand rooms (no store)"))), h("td", {}, x.rooms),
            h("td", {}, x.live_rooms ? badge(String(x.live_rooms), "green") : "0"), h("td", {}, x.orders), h("td", {}, x.paid_orders),
            h("td", {}, h("b", {}, yuan(x.gmv_fen))), h("td", { class: "gmv-cell" }, bar(x.gmv_fen)))).concat(
            [h("tr", { class: "sum-row" }, h("td", {}, t("合计", "Total")), h("td", {}, r.total.rooms), h("td", {}, r.total.live_rooms), h("td", {}, r.total.orders),
              h("td", {}, r.total.paid_orders), h("td", {}, h("b", {}, yuan(r.total.gmv_fen))), h("td", {}))])),
        h("p", { class: "small muted" }, t("成交额按下单日（北京时间）统计已支付订单，扣除退款。门店的主播只能看到和运营本店的直播间。", "GMV: paid orders by order day (Beijing time), net of refunds. A store's hosts see and run only that store's rooms.")));
      // widths from data attributes: the CSP allows no inline styles
      for (const b of main.querySelectorAll(".gmv-bar")) b.style.width = b.dataset.w + "%";
    },

    async audit() {
      const r = await api("GET", "/api/v1/audit");
      main.replaceChildren(toolbar(t("操作日志", "Audit log")),
        table([t("时间", "Time"), t("操作人", "Actor"), t("操作", "Action"), t("对象", "Object"), t("详情", "Detail")],
          r.entries.map((e) => h("tr", {}, h("td", {}, fmt(e.at)), h("td", {}, e.actor), h("td", { class: "mono" }, e.action), h("td", {}, e.object), h("td", { class: "small" }, e.detail || "")))));
    },
  };

  // Tabs kept in files of their own (admin_*.js) register in SL.adminTabs.
  for (const [name, fn] of Object.entries(SL.adminTabs || {})) {
    tabs[name] = () => fn({ main, h, t, api, toast, table, toolbar, badge, fmt, openModal, field, show });
  }

  const roleLabel = { owner: t("店主", "Owner"), admin: t("管理员", "Admin"), host: t("主播", "Host"), guide: t("导购", "Guide"), quality: t("品控", "Quality"), store: t("门店店员", "Store staff"), moderator: t("场控", "Moderator") };

  function editProduct(p) {
    const skus = p ? p.skus : [{ code: "", name: "", name_en: "", price_fen: 0, list_price_fen: 0, gtin: "" }];
    const skuBox = h("div", { class: "full" }, h("label", {}, t("规格（编码 / 名称 / 英文名 / 售价 / 划线价，元）", "SKUs (code / name / English name / price / list price, ¥)")),
      skus.map((k, i) => h("div", { class: "sku-row", dataset: { id: k.id || 0 } }, h("input", { name: "code" + i, value: k.code, placeholder: "SKU" }), h("input", { name: "sname" + i, value: k.name, placeholder: t("名称", "Name") }),
        h("input", { name: "sname_en" + i, value: k.name_en || "", placeholder: t("英文名（选填）", "English name (optional)"), "aria-label": t("规格英文名", "SKU English name") }),
        h("input", { name: "price" + i, type: "number", step: "0.01", min: "0", value: (k.price_fen / 100).toFixed(2) }), h("input", { name: "list" + i, type: "number", step: "0.01", min: "0", value: ((k.list_price_fen || 0) / 100).toFixed(2) }))));
    const upload = h("input", { type: "file", accept: "image/*", name: "upload" });
    const guard = SL.complianceGuard(role);
    openModal(p ? t("编辑商品", "Edit product") : t("新建商品", "New product"), [
      field(t("名称", "Name"), "name", p && p.name, { required: true }), field(t("英文名", "English name"), "name_en", p && p.name_en),
      field(t("卖点", "Subtitle"), "subtitle", p && p.subtitle, { full: true }),
      field(t("类目", "Category"), "category", p && p.category), field(t("产地", "Origin"), "origin", p && p.origin), select(t("储存方式", "Storage"), "storage", [["chilled", t("冷藏", "Chilled")], ["frozen", t("冷冻", "Frozen")], ["ambient", t("常温", "Ambient")]], p ? p.storage : "chilled"),
      select(t("食品类别（决定适用的广告审查规则）", "Product type (which claim rules apply)"), "product_type", [["ordinary_food", t("普通食品", "Ordinary food")], ["health_food", t("保健食品（蓝帽子）", "Health food (approved)")], ["none", t("非食品", "Not food")]], p ? p.product_type || "ordinary_food" : "ordinary_food"),
      field(t("配料", "Ingredients"), "ingredients", p && p.ingredients), field(t("过敏原", "Allergens"), "allergens", p && p.allergens),
      field(t("规格说明", "Specs"), "specs", p && p.specs), field(t("保质期（天）", "Shelf life (days)"), "shelf_days", p ? p.shelf_days : 7, { type: "number", min: "0" }),
      field(t("别名（评论里的叫法，用、或 | 分隔，如 1号、黄色那杯）", "Aliases (what viewers call it in comments, separated by 、 or |, e.g. No. 1, the yellow one)"), "aliases", p && (p.aliases || []).join("、"), { full: true }),
      p ? aliasTry(p) : null,
      field(t("描述", "Description"), "description", p && p.description, { full: true, textarea: true }),
      h("label", { class: "full" }, t("图片", "Image"), upload, p && p.image ? h("img", { src: p.image, alt: "", width: "64", height: "64" }) : null),
      skuBox, guard.el,
    ], async (form) => {
      let image = p ? p.image : "";
      if (upload.files.length) {
        const fd = new FormData(); fd.append("file", upload.files[0]);
        const res = await fetch("/api/v1/uploads", { method: "POST", body: fd, headers: { "X-CSRF-Token": SL.csrf } });
        const d = await res.json(); if (!res.ok) throw new Error(d.detail || t("上传失败", "Upload failed")); image = d.url;
      }
      const body = { name: form.name.value, name_en: form.name_en.value, subtitle: form.subtitle.value, origin: form.origin.value, storage: form.storage.value,
        ingredients: form.ingredients.value, allergens: form.allergens.value, specs: form.specs.value, shelf_days: Number(form.shelf_days.value) || 0,
        description: form.description.value, category: form.category.value.trim(), product_type: form.product_type.value, image, active: true, aliases: form.aliases.value.split(/[、|,，;；\n]/).map((a) => a.trim()).filter(Boolean),
        skus: skus.map((k, i) => ({ id: k.id || 0, code: form["code" + i].value, name: form["sname" + i].value, name_en: form["sname_en" + i].value, price_fen: Math.round(Number(form["price" + i].value) * 100), list_price_fen: Math.round(Number(form["list" + i].value) * 100), gtin: k.gtin || "", active: true })) };
      const saved = p ? await guard.run((override) => api("PUT", "/api/v1/products/" + p.id, override ? Object.assign({ override }, body) : body)) : await api("POST", "/api/v1/products", body);
      toast(t("已保存", "Saved")); show("products");
      if (saved.compliance && saved.compliance.texts.length) setTimeout(() => showReview(saved), 0); // after this modal closes
    });
  }

  // aliasTry lets the merchant type a comment and see how the room would
  // read it (POST /api/v1/insight/classify against the saved catalogue):
  // which product, which intent, which sentiment.
  const intentLabel = { ask_price: t("问价", "asks the price"), ask_taste: t("问口味", "asks the taste"), ask_ingredients_allergen: t("问配料/过敏", "asks ingredients / allergens"),
    ask_stock_size: t("问库存/规格", "asks stock / size"), ask_shipping_pickup: t("问配送/自提", "asks delivery / pickup"), ask_other: t("其他提问", "other question"),
    purchase_intent: t("想买", "wants to buy"), praise: t("夸", "praise"), complaint: t("抱怨", "complaint"), chitchat: t("闲聊", "small talk"), spam: t("广告", "spam") };
  function aliasTry(p) {
    const input = h("input", { id: "alias-try-text", placeholder: t("输入一条评论试试，如：黄色那杯多少钱", "Type a comment, e.g. how much is the yellow one"), maxlength: "200" });
    const out = h("div", { id: "alias-try-result", class: "small", "aria-live": "polite" });
    const run = async () => {
      const text = input.value.trim();
      if (!text) return;
      out.textContent = "…";
      try {
        const r = (await api("POST", "/api/v1/insight/classify", { texts: [text] })).results[0];
        const who = r.product_id === null ? t("没认出商品", "no product") : r.product_id === p.id ? t("✓ 本商品", "✓ this product") : t("另一件商品 #", "another product #") + r.product_id;
        out.dataset.product = r.product_id === null ? "" : String(r.product_id);
        out.textContent = who + " · " + (intentLabel[r.intent] || r.intent) + " · " + { pos: t("正面", "positive"), neg: t("负面", "negative"), neu: t("中性", "neutral") }[r.sentiment];
      } catch (e) { out.textContent = e.message; }
    };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); run(); } });
    return h("div", { class: "full alias-try" }, h("label", { for: "alias-try-text" }, t("试一试别名（按已保存的别名识别评论）", "Try the aliases (reads a comment with the saved aliases)")),
      h("div", { class: "row-form" }, input, h("button", { type: "button", class: "btn btn-ghost", id: "alias-try-go", onclick: run }, t("识别", "Read"))), out);
  }

  // showReview shows what the advertising-law review found in a saved
  // product: it is saved, but a room showing it cannot go live while a
  // finding blocks.
  function showReview(prod) {
    const rev = prod.compliance;
    openModal(t("合规提示：", "Compliance: ") + SL.pname(prod), [h("div", { class: "full", id: "product-review" },
      h("p", { class: rev.blocking ? "form-error" : "muted" }, rev.blocking
        ? t("商品已保存，但含有禁止用语：含此商品的直播间在修改前不能开播。", "Saved, but it has blocking claims: rooms showing it cannot go live until they are fixed.")
        : t("商品已保存。以下说法需要注意或上传证明（管理后台 → 合规词库）。", "Saved. These claims need care or evidence on file (Admin → Compliance).")),
      SL.complianceView(rev))], async () => {});
  }

  // A spreadsheet upload: checked first (dry run), applied after the admin
  // confirms the summary; a bad cell names its row and column.
  function importCSV(title, url, help, summary, done, page) {
    const file = h("input", { type: "file", accept: ".csv,text/csv", name: "file", id: "import-file", required: true });
    const send = async (dry) => {
      const res = await fetch(url + (dry ? "?dry_run=true" : ""), { method: "POST", body: file.files[0], headers: { "Content-Type": "text/csv", "X-CSRF-Token": SL.csrf, "Accept-Language": SL.lang === "en" ? "en" : "zh-CN" } });
      const d = await res.json();
      if (!res.ok) { const e = new Error(d.detail || d.title); e.field = d.field; throw e; }
      return d;
    };
    openModal(title, [h("p", { class: "full small muted" }, help), h("label", { class: "full" }, t("CSV 文件", "CSV file"), file)], async () => {
      if (!confirm(summary(await send(true)))) throw new Error(t("已取消", "Cancelled"));
      toast(done(await send(false))); show(page);
    });
  }
  const importProducts = () => importCSV(t("导入商品 CSV", "Import products (CSV)"), "/api/v1/products/import",
    t("每行一个规格，同名商品合并。必填列：商品、规格编码、规格、售价（元）；可选：类目、划线价、条码、产地、储存（冷藏/冷冻/常温）、保质期、配料、过敏原、副标题、英文名、别名（用 | 分隔）。支持 Excel 另存的 UTF-8 或 GBK 文件。全部通过才导入。",
      "One row per SKU; rows with the same product name make one product. Required: product, sku_code, sku_name, price (yuan); optional: category, list_price, gtin, origin, storage, shelf_days, ingredients, allergens, subtitle, product_en, aliases (separated by |). UTF-8 or GBK as Excel saves it. Nothing is created unless every row is valid."),
    (d) => t("将创建 ", "Create ") + d.products.length + t(" 个商品、", " products with ") + d.products.reduce((n, p) => n + p.skus.length, 0) + t(" 个规格，确认导入？", " SKUs?"),
    (d) => t("已导入 ", "Imported ") + d.created + t(" 个商品", " products"), "products");
  const importStock = () => importCSV(t("导入盘点 CSV", "Import stock count (CSV)"), "/api/v1/stock/import",
    t("每行一个门店的一个批次。必填列：规格编码、门店（名称或编号）、批次号、到期日期（YYYY-MM-DD）、库存；可选：生产日期、来源。没有的批次会新建；库存按表设置，不能少于已被预订的数量。全部通过才生效。",
      "One row per lot and store. Required: sku_code, store (name or id), lot, expires (YYYY-MM-DD), on_hand; optional: produced, origin. Missing lots are created; stock is set as given, never below what is reserved. Nothing changes unless every row is valid."),
    (d) => t("将设置 ", "Set ") + d.rows + t(" 行库存，确认？", " stock rows?"),
    (d) => t("已更新 ", "Updated ") + d.rows + t(" 行，新建批次 ", " rows; new lots: ") + d.lots_created, "lots");

  function skuOptions() { const o = []; for (const p of productsCache) for (const k of p.skus) o.push([k.id, SL.pname(p) + " · " + SL.kname(k)]); return o; }
  function newLot() {
    const today = new Date().toISOString().slice(0, 10);
    openModal(t("新建批次", "New lot"), [
      select(t("商品规格", "SKU"), "sku_id", skuOptions(), ""), field(t("批次号", "Lot code"), "code", "", { required: true, maxlength: "20" }),
      field(t("生产日期", "Produced"), "produced", today, { type: "date" }), field(t("到期日期", "Expires"), "expires", today, { type: "date" }),
      field(t("来源", "Origin"), "origin", "", { full: true }),
    ], async (form) => {
      await api("POST", "/api/v1/lots", { sku_id: Number(form.sku_id.value), code: form.code.value, produced_at: new Date(form.produced.value + "T00:00:00+08:00").toISOString(), expires_at: new Date(form.expires.value + "T23:59:59+08:00").toISOString(), origin: form.origin.value });
      toast(t("已创建", "Created")); show("lots");
    });
  }
  function setStock(lot, storeID, onHand) {
    openModal(t("调整库存 · ", "Set stock · ") + lot.code, [
      select(t("门店", "Store"), "store_id", storesCache.map((s) => [s.id, SL.sname(s)]), storeID), field(t("在库数量", "On hand"), "on_hand", onHand, { type: "number", min: "0" }),
    ], async (form) => { await api("PUT", "/api/v1/stock", { store_id: Number(form.store_id.value), lot_id: lot.id, on_hand: Number(form.on_hand.value) }); toast(t("已更新", "Updated")); show("lots"); });
  }
  // packingList shows the paid delivery orders to pack; chilled and frozen
  // lines go into the insulated box with ice packs.
  async function packingList() {
    try {
      const r = await api("GET", "/api/v1/packing-list");
      const box = (x) => x.insulated ? badge(t("保温箱+冰袋", "Insulated box + ice"), "red") : badge(t("常温", "Ambient"));
      openModal(t("配送拣货单", "Packing list"), [h("div", { class: "full", id: "packing" }, r.orders.length === 0 ? h("p", { class: "muted" }, t("没有待打包的配送订单", "No delivery orders to pack")) :
        table([t("订单号", "Number"), t("地址", "Address"), t("商品", "Items"), t("包装", "Packing")], r.orders.map((o) => h("tr", {},
          h("td", { class: "mono" }, o.number), h("td", { class: "small" }, o.address),
          h("td", {}, o.lines.map((l) => h("div", {}, SL.itemName(l) + " " + SL.skuName(l) + " × " + l.quantity + " ", box(l)))),
          h("td", {}, box(o))))))], async () => {});
    } catch (e) { toast(e.message); }
  }
  async function holdStore(l, storeID, on) {
    const reason = on ? prompt(t("本店暂停原因（如：冷柜故障）", "Reason (e.g. this store's fridge failed)"), t("门店冷链复核中", "Store cold chain under review")) : "";
    if (on && reason === null) return;
    try { await api("POST", "/api/v1/lots/" + l.id + "/hold", { hold: on, reason: reason || "", store_id: storeID }); show("lots"); } catch (e) { toast(e.message); }
  }
  async function hold(l) {
    const reason = l.hold ? "" : prompt(t("暂停原因（如：冷链复核）", "Reason (e.g. cold chain review)"), t("冷链复核中", "Cold chain under review"));
    if (!l.hold && reason === null) return;
    try { await api("POST", "/api/v1/lots/" + l.id + "/hold", { hold: !l.hold, reason: reason || "" }); show("lots"); } catch (e) { toast(e.message); }
  }
  const hm = (m) => String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0"), mins = (v) => { const [a, b] = String(v || "").split(":").map(Number); return (a || 0) * 60 + (b || 0); };
  function editStore(s) {
    openModal(s ? t("编辑门店", "Edit store") : t("新建门店", "New store"), [
      field(t("名称", "Name"), "name", s && s.name, { required: true }), field(t("英文名", "English name"), "name_en", s && s.name_en),
      field(t("地址", "Address"), "address", s && s.address, { full: true, required: true }),
      field(t("纬度", "Latitude"), "lat", s ? s.lat : "", { type: "number", step: "any" }), field(t("经度", "Longitude"), "lng", s ? s.lng : "", { type: "number", step: "any" }),
      field(t("电话", "Phone"), "phone", s && s.phone), field(t("营业时间", "Hours"), "hours", s && s.hours),
      select(t("承接配送", "Ships delivery"), "delivery", [["false", t("否", "No")], ["true", t("是", "Yes")]], s ? String(s.delivery) : "false"),
      field(t("自提保留（小时，逾期自动退款）", "Pickup window (hours, then refunded)"), "pickup_window_hours", s ? s.pickup_window_hours : 48, { type: "number", min: "1", max: "168" }),
      field(t("开门", "Opens"), "opens", hm(s ? s.open_minute : 480), { type: "time" }), field(t("关门", "Closes"), "closes", hm(s ? s.close_minute : 1320), { type: "time" }),
      field(t("自提时段（分钟）", "Pickup slot (minutes)"), "slot_minutes", s ? s.slot_minutes : 60, { type: "number", min: "15", max: "240" }),
      field(t("每时段单数（0 = 不分时段）", "Orders per slot (0 = no slots)"), "slot_capacity", s ? s.slot_capacity : 0, { type: "number", min: "0", max: "1000" }),
      field(t("同城配送半径（公里，0 = 不送）", "Same-city radius (km, 0 = none)"), "delivery_radius_km", s ? (s.delivery_radius_m || 0) / 1000 : 0, { type: "number", min: "0", max: "50", step: "0.1" }),
      field(t("配送费档位（公里:元，逗号分隔）", "Fee tiers (km:yuan, comma-separated)"), "delivery_tiers", s ? (s.delivery_tiers || []).map((x) => x.max_m / 1000 + ":" + x.fee_fen / 100).join(", ") : "", { placeholder: "3:5, 5:8" }),
      field(t("满额免配送费（元，0 = 不免）", "Free delivery over (yuan, 0 = never)"), "delivery_free_over", s ? (s.delivery_free_over_fen || 0) / 100 : 0, { type: "number", min: "0", step: "0.01" }),
      field(t("每配送时段单数（0 = 不分时段）", "Deliveries per slot (0 = no slots)"), "delivery_slot_capacity", s ? s.delivery_slot_capacity || 0 : 0, { type: "number", min: "0", max: "1000" }),
    ], async (form) => {
      const tiers = form.delivery_tiers.value.split(/[,，]/).map((x) => x.trim()).filter(Boolean).map((x) => {
        const [km, fee] = x.split(/[:：]/); return { max_m: Math.round(Number(km) * 1000), fee_fen: Math.round(Number(fee) * 100) };
      });
      const body = { name: form.name.value, name_en: form.name_en.value, address: form.address.value, lat: Number(form.lat.value), lng: Number(form.lng.value), phone: form.phone.value, hours: form.hours.value, delivery: form.delivery.value === "true",
        pickup_window_hours: Number(form.pickup_window_hours.value) || 48, open_minute: mins(form.opens.value), close_minute: mins(form.closes.value) || 1440,
        slot_minutes: Number(form.slot_minutes.value) || 60, slot_capacity: Number(form.slot_capacity.value) || 0,
        delivery_radius_m: Math.round(Number(form.delivery_radius_km.value) * 1000) || 0, delivery_tiers: tiers,
        delivery_free_over_fen: Math.round(Number(form.delivery_free_over.value) * 100) || 0, delivery_slot_capacity: Number(form.delivery_slot_capacity.value) || 0 };
      if (s) await api("PUT", "/api/v1/stores/" + s.id, body); else await api("POST", "/api/v1/stores", body);
      toast(t("已保存", "Saved")); show("stores");
    });
  }
  // productPicker lets staff choose a room's products by name and picture,
  // in lineup order (the room's own products first).
  function productPicker(chosen) {
    const ids = new Set(chosen);
    const order = chosen.map((id) => productsCache.find((p) => p.id === id)).filter(Boolean).concat(productsCache.filter((p) => !ids.has(p.id)));
    return h("fieldset", { class: "full product-picker", id: "product-picker" }, h("legend", {}, t("本场商品（勾选，按顺序讲解）", "Products in this room (tick; pinned in this order)")),
      order.map((p) => h("label", { class: "pick" }, h("input", { type: "checkbox", name: "product", value: p.id, checked: ids.has(p.id) }),
        p.image ? h("img", { src: p.image, alt: "" }) : null, h("span", {}, h("b", {}, SL.pname(p)), " ", h("small", { class: "muted" }, p.skus.map((k) => SL.kname(k) + " " + yuan(k.price_fen)).join(" / "))))));
  }
  async function editRoom(x) {
    if (!productsCache.length) { try { productsCache = (await api("GET", "/api/v1/products")).products; } catch (e) { toast(e.message); return; } }
    const roomGuard = SL.complianceGuard(role);
    const local = (iso) => { if (!iso) return ""; const d = new Date(new Date(iso).getTime() + 8 * 3600e3); return d.toISOString().slice(0, 16); };
    openModal(x ? t("编辑直播间", "Edit room") : t("新建直播间", "New room"), [
      field(t("地址（slug）", "Slug"), "slug", x && x.slug, x ? { readonly: true } : { required: true, pattern: "[a-z0-9][a-z0-9-]{1,47}" }), field(t("主播名", "Host name"), "host_name", x && x.host_name),
      field(t("标题", "Title"), "title", x && x.title, { full: true, required: true }), field(t("英文标题", "English title"), "title_en", x && x.title_en, { full: true }),
      field(t("计划开播（北京时间）", "Scheduled (Beijing time)"), "scheduled_at", x && local(x.scheduled_at), { type: "datetime-local" }),
      select(t("所属门店（该店主播运营）", "Store (its hosts run it)"), "store_id", [[0, t("品牌（不属于门店）", "Brand (no store)")]].concat(storesCache.map((s) => [s.id, SL.sname(s)])), x ? x.store_id || 0 : 0),
      productPicker(x ? x.product_ids : []), roomGuard.el,
    ], async (form) => {
      const picked = [...form.querySelectorAll('input[name="product"]:checked')].map((el) => Number(el.value));
      const body = { store_id: Number(form.store_id.value), title: form.title.value, title_en: form.title_en.value, host_name: form.host_name.value, product_ids: picked };
      if (form.scheduled_at.value) body.scheduled_at = new Date(form.scheduled_at.value + ":00+08:00").toISOString();
      if (x) await roomGuard.run((override) => api("PATCH", "/api/v1/rooms/" + x.slug, override ? Object.assign({ override }, body) : body)); else await api("POST", "/api/v1/rooms", Object.assign({ slug: form.slug.value }, body));
      toast(t("已保存", "Saved")); show("rooms");
    });
  }
  async function roomStatus(x, status) { try { await api("POST", "/api/v1/rooms/" + x.slug + "/status", { status }); show("rooms"); } catch (e) { toast(e.message); } }
  // One-time links: the owner sets role and store, the person their password.
  function showLink(title, r, note) {
    const input = h("input", { id: "invite-url", readonly: true, value: r.url, class: "mono" });
    const copy = h("button", { class: "btn btn-primary", type: "button", onclick: async () => {
      try { await navigator.clipboard.writeText(r.url); toast(t("已复制", "Copied")); } catch (e) { input.select(); }
    } }, t("复制链接", "Copy link"));
    modal.replaceChildren(h("div", {}, h("h2", {}, title), h("p", { class: "small muted" }, note),
      h("label", { class: "full" }, t("链接（只显示这一次）", "Link (shown this once)"), input),
      h("p", { class: "small muted" }, t("有效期至 ", "Valid until ") + fmt(r.invite.expires_at) + t("，只能用一次。", ", once.")),
      h("div", { class: "modal-actions" }, h("button", { class: "btn btn-ghost", type: "button", onclick: closeModal }, t("关闭", "Close")), copy)));
    modal.classList.remove("hidden"); backdrop.classList.remove("hidden");
  }
  function inviteStaff() {
    openModal(t("邀请员工", "Invite staff"), [
      field(t("姓名", "Name"), "name", "", { required: true, maxlength: "100" }), select(t("角色", "Role"), "role", Object.entries(roleLabel).filter(([r]) => r !== "owner" || role === "owner"), "host"),
      select(t("门店", "Store"), "store_id", [[0, "—"]].concat(storesCache.map((x) => [x.id, SL.sname(x)])), 0),
      field(t("有效期（小时）", "Valid for (hours)"), "valid_hours", 72, { type: "number", min: "1", max: "168" }),
    ], async (form) => {
      const r = await api("POST", "/api/v1/staff/invites", { name: form.name.value, role: form.role.value, store_id: Number(form.store_id.value), valid_hours: Number(form.valid_hours.value) || 0 });
      setTimeout(() => showLink(t("邀请链接", "Invitation link"), r, t("把链接发给 ", "Send the link to ") + r.invite.name + t("：打开后自己设置用户名和密码。", ": they choose their username and password.")), 0);
    });
  }
  async function resetLink(s) {
    if (!confirm(t("为 ", "Make a password reset link for ") + s.name + t(" 生成重置密码链接？使用后其所有登录会退出。", "? Using it logs them out everywhere."))) return;
    try {
      const r = await api("POST", "/api/v1/staff/" + s.id + "/reset-link", {});
      showLink(t("重置密码链接", "Password reset link"), r, t("把链接发给 ", "Send the link to ") + s.name + t("：打开后设置新密码。", ": they set a new password there."));
    } catch (e) { toast(e.message); }
  }
  function changePassword() {
    openModal(t("修改我的密码", "Change my password"), [
      field(t("当前密码", "Current password"), "current", "", { type: "password", autocomplete: "current-password", required: true }),
      field(t("新密码（至少 10 位）", "New password (10+ characters)"), "next", "", { type: "password", autocomplete: "new-password", required: true, minlength: "10" }),
    ], async (form) => {
      await api("POST", "/api/v1/auth/password", { current_password: form.current.value, new_password: form.next.value });
      toast(t("密码已修改，其他设备上的登录已退出", "Password changed; your other sessions ended"));
    });
  }
  const cp = $("change-password");
  if (cp) cp.addEventListener("click", changePassword);
  function editStaff(s) {
    openModal(s ? t("编辑员工", "Edit staff") : t("添加员工", "Add staff"), [
      field(t("姓名", "Name"), "name", s && s.name, { required: true }), field(t("用户名", "Username"), "username", s && s.username, s ? { readonly: true } : { required: true }),
      field(t("手机", "Phone"), "phone", s && s.phone), select(t("角色", "Role"), "role", Object.entries(roleLabel), s ? s.role : "host"),
      select(t("门店", "Store"), "store_id", [[0, "—"]].concat(storesCache.map((x) => [x.id, SL.sname(x)])), s ? s.store_id : 0), field(t("导购码", "Guide code"), "guide_code", s && s.guide_code),
      field(s ? t("新密码（留空不改；会退出其所有登录）", "New password (blank keeps it; ends their sessions)") : t("密码（至少 10 位）", "Password (10+ characters)"), "password", "", { type: "password", autocomplete: "new-password" }),
      select(t("状态", "State"), "disabled", [["false", t("正常", "Active")], ["true", t("停用", "Disabled")]], s ? String(s.disabled) : "false"),
    ], async (form) => {
      const body = { name: form.name.value, username: form.username.value, phone: form.phone.value, role: form.role.value, store_id: Number(form.store_id.value), guide_code: form.guide_code.value, password: form.password.value, disabled: form.disabled.value === "true" };
      if (s) await api("PUT", "/api/v1/staff/" + s.id, body); else await api("POST", "/api/v1/staff", body);
      toast(t("已保存", "Saved")); show("staff");
    });
  }

  // admin_payments.js adds the payments tab and the refund dialog.
  SL.admin = { tabs, main, openModal, closeModal, field, table, toolbar, badge, show: (tab) => show(tab) };

  async function show(tab) {
    for (const a of document.querySelectorAll("#admin-nav a")) a.classList.toggle("on", a.dataset.tab === tab);
    try { await tabs[tab](); } catch (e) { main.replaceChildren(h("div", { class: "card" }, h("p", { class: "form-error" }, e.message))); }
  }
  const route = () => { const tab = (location.hash.slice(1).split("?")[0]) || "orders"; show(tabs[tab] ? tab : "orders"); };
  window.addEventListener("hashchange", route);
  api("GET", "/api/v1/stores").then((r) => { storesCache = r.stores; }).catch(() => {}).finally(route);
})();
