// Live dashboard: a room's numbers every 2 s (viewers, watch time, new vs
// returning, comments and likes per minute, shares, the product funnel,
// GMV, conversion), what its comments ask for per product and an A/B
// verdict every 10 s between two of its products, or one of its products
// and one of another room's (B's room picked beside B); or the brand
// across rooms and stores.
(function () {
  const { h, t, api, yuan, pname, rtitle } = SL;
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const chart = (id) => charts[id] || (charts[id] = window.echarts.init($(id), null, { renderer: "svg" }));
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  const pct = (x) => (100 * x).toFixed(1) + "%";
  const mins = (s) => s >= 60 ? Math.floor(s / 60) + t("分", "m ") + Math.round(s % 60) + t("秒", "s") : Math.round(s) + t("秒", "s");
  const hhmm = (iso) => new Date(iso).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" });
  const kpi = (id, label, value, sub) => h("div", { class: "kpi", id }, h("b", {}, value), h("span", {}, label), sub ? h("small", {}, sub) : null);
  const select = $("dash-room");
  let room = new URLSearchParams(location.search).get("room") || "";
  let rooms = [];

  async function loadRooms() {
    const d = await api("GET", "/api/v1/insight/rooms");
    rooms = d.rooms;
    for (const r of d.rooms) select.append(h("option", { value: r.slug }, (r.status === "live" ? "● " : "") + rtitle(r)));
    select.value = room;
    fillRoomB();
    return d;
  }
  select.addEventListener("change", () => {
    room = select.value; slowAt = 0; abA.dataset.ids = ""; abB.dataset.ids = ""; fillRoomB();
    history.replaceState(null, "", room ? "?room=" + encodeURIComponent(room) : location.pathname); tick();
  });

  function renderRoom(s) {
    $("dash-kpis").replaceChildren(
      kpi("k-viewers", t("在线观众", "Viewers now"), s.viewers_now, t("峰值 ", "peak ") + s.peak_viewers),
      kpi("k-unique", t("累计观众", "Unique viewers"), s.unique_viewers, t("场次 ", "sessions ") + s.sessions),
      kpi("k-watch", t("人均观看", "Avg watch time"), mins(s.avg_watch_seconds)),
      kpi("k-new", t("新观众 / 老观众", "New / returning"), s.new_viewers + " / " + s.returning_viewers),
      kpi("k-orders", t("订单 / 已支付", "Orders / paid"), s.orders + " / " + s.paid_orders),
      kpi("k-gmv", t("成交额", "GMV"), yuan(s.gmv_fen)),
      kpi("k-conv", t("转化率", "Conversion"), pct(s.conversion), t("下单观众 ", "buyers ") + s.buyers));
    const minutes = [...new Set([...s.comments_per_minute, ...s.likes_per_minute].map((m) => m.at))].sort();
    const val = (list, at) => { const m = list.find((x) => x.at === at); return m ? m.n : 0; };
    chart("chart-activity").setOption({
      animation: false, tooltip: { trigger: "axis" }, legend: { top: 0, data: [t("评论", "Comments"), t("点赞", "Likes")] },
      grid: { left: 48, right: 48, top: 48, bottom: 28 },
      xAxis: { type: "category", data: minutes.map(hhmm) },
      yAxis: [{ type: "value", name: t("评论", "Comments"), minInterval: 1 }, { type: "value", name: t("点赞", "Likes"), minInterval: 1 }],
      series: [
        { name: t("评论", "Comments"), type: "bar", data: minutes.map((m) => val(s.comments_per_minute, m)), itemStyle: { color: "#2563eb" } },
        { name: t("点赞", "Likes"), type: "line", yAxisIndex: 1, smooth: true, data: minutes.map((m) => val(s.likes_per_minute, m)), itemStyle: { color: "#ef4444" } }],
    }, true);
    const names = s.products.map(pname);
    const stage = (key, label, color) => ({ name: label, type: "bar", data: s.products.map((p) => p[key]), itemStyle: { color } });
    chart("chart-funnel").setOption({
      animation: false, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, data: [t("曝光", "Shown"), t("点开", "Opened"), t("结算", "Checkout"), t("支付", "Paid")] },
      grid: { left: 120, right: 24, top: 40, bottom: 24 },
      yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 110, overflow: "truncate" } }, xAxis: { type: "value", minInterval: 1 },
      series: [stage("shown", t("曝光", "Shown"), "#94a3b8"), stage("opened", t("点开", "Opened"), "#60a5fa"), stage("checkout", t("结算", "Checkout"), "#f59e0b"), stage("paid", t("支付", "Paid"), "#16a34a")],
    }, true);
    chart("chart-viewers").setOption({
      animation: false, tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["45%", "70%"], label: { formatter: "{b}: {c}" },
        data: [{ name: t("新观众", "New"), value: s.new_viewers, itemStyle: { color: "#2563eb" } }, { name: t("老观众", "Returning"), value: s.returning_viewers, itemStyle: { color: "#f59e0b" } }] }],
    }, true);
    $("dash-shares").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, t("分享人 / 导购", "Sharer / guide")), h("th", { class: "num" }, t("分享次数", "Shares")), h("th", { class: "num" }, t("订单", "Orders")), h("th", { class: "num" }, t("已支付", "Paid")), h("th", { class: "num" }, t("成交额", "Revenue")))),
      h("tbody", {}, s.shares.length ? s.shares.map((x) => h("tr", {}, h("td", {}, x.name ? x.name + " (" + x.code + ")" : x.code), h("td", { class: "num" }, x.shares), h("td", { class: "num" }, x.orders), h("td", { class: "num" }, x.paid), h("td", { class: "num" }, yuan(x.revenue_fen))))
        : h("tr", {}, h("td", { colspan: "5", class: "muted" }, t("还没有分享", "No shares yet")))));
  }

  function renderBrand(rooms, stores) {
    const sum = (k) => rooms.reduce((n, r) => n + r[k], 0);
    $("dash-kpis").replaceChildren(
      kpi("k-live", t("直播中", "Live rooms"), rooms.filter((r) => r.status === "live").length, t("共 ", "of ") + rooms.length),
      kpi("k-viewers", t("在线观众", "Viewers now"), sum("viewers_now")),
      kpi("k-unique", t("累计观众", "Unique viewers"), sum("unique_viewers")),
      kpi("k-orders", t("订单 / 已支付", "Orders / paid"), sum("orders") + " / " + sum("paid_orders")),
      kpi("k-gmv", t("成交额", "GMV"), yuan(sum("gmv_fen"))));
    const top = rooms.filter((r) => r.orders > 0 || r.status === "live").slice(0, 12);
    chart("chart-rooms").setOption({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 140, right: 24, top: 16, bottom: 24 },
      yAxis: { type: "category", inverse: true, data: top.map(rtitle), axisLabel: { width: 130, overflow: "truncate" } }, xAxis: { type: "value", axisLabel: { formatter: (v) => "¥" + v / 100 } },
      series: [{ type: "bar", data: top.map((r) => r.gmv_fen), itemStyle: { color: "#2563eb" } }] }, true);
    chart("chart-stores").setOption({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 140, right: 24, top: 16, bottom: 24 },
      yAxis: { type: "category", inverse: true, data: stores.map((s) => SL.sname(s) || t("品牌直播间", "Brand rooms")), axisLabel: { width: 130, overflow: "truncate" } }, xAxis: { type: "value", axisLabel: { formatter: (v) => "¥" + v / 100 } },
      series: [{ type: "bar", data: stores.map((s) => s.gmv_fen), itemStyle: { color: "#16a34a" } }] }, true);
    $("dash-rooms").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, t("直播间", "Room")), h("th", {}, t("状态", "Status")), h("th", { class: "num" }, t("在线", "Now")), h("th", { class: "num" }, t("累计观众", "Unique")), h("th", { class: "num" }, t("订单", "Orders")), h("th", { class: "num" }, t("已支付", "Paid")), h("th", { class: "num" }, t("成交额", "GMV")), h("th", {}, ""))),
      h("tbody", {}, rooms.map((r) => h("tr", {}, h("td", {}, rtitle(r)), h("td", {}, { live: t("直播中", "Live"), scheduled: t("未开播", "Scheduled"), ended: t("已结束", "Ended") }[r.status] || r.status),
        h("td", { class: "num" }, r.viewers_now), h("td", { class: "num" }, r.unique_viewers), h("td", { class: "num" }, r.orders), h("td", { class: "num" }, r.paid_orders), h("td", { class: "num" }, yuan(r.gmv_fen)),
        h("td", {}, h("a", { href: "?room=" + encodeURIComponent(r.slug) }, t("看板", "Dashboard")), " ", h("a", { href: "/report/" + encodeURIComponent(r.slug) }, t("报告", "Report")))))));
  }

  // What the comments ask for, per product (GET /rooms/{slug}/insights).
  const asks = [["ask_price", t("问价", "Price")], ["ask_taste", t("口味", "Taste")], ["ask_ingredients_allergen", t("配料/过敏", "Ingredients")],
    ["ask_stock_size", t("库存/规格", "Stock/size")], ["ask_shipping_pickup", t("配送/自提", "Delivery")], ["ask_other", t("其他", "Other")]];
  function renderSignals(sig) {
    const num = (v, id) => h("td", { class: "num", "data-k": id }, v || 0);
    $("dash-signals").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, t("商品", "Product")), h("th", { class: "num" }, t("提及", "Mentions")), h("th", { class: "num" }, t("提问", "Questions")),
        ...asks.map(([, label]) => h("th", { class: "num" }, label)), h("th", { class: "num" }, t("好评 / 差评", "Pos / neg")), h("th", { class: "num" }, t("待回答", "Unanswered")))),
      h("tbody", {}, (sig.products || []).length ? sig.products.map((p) => h("tr", { "data-product": p.product_id }, h("td", {}, pname(p)), num(p.mentions, "mentions"), num(p.questions, "questions"),
        ...asks.map(([k]) => num((p.by_intent || {})[k], k)), h("td", { class: "num" }, p.sentiment.pos + " / " + p.sentiment.neg), num(p.unanswered_questions, "unanswered")))
        : h("tr", {}, h("td", { colspan: String(asks.length + 5), class: "muted" }, t("还没有评论", "No comments yet")))));
  }

  // A/B verdict (GET /rooms/{slug}/ab): A is a product of this room; B one
  // of this room or, with B's room picked, of another room (room_b).
  const abA = $("dash-ab-a"), abB = $("dash-ab-b"), abRoomB = $("dash-ab-room-b");
  const roomBProducts = {}; // slug → [{product_id, name, name_en}], read once a pick
  function fillRoomB() {
    const keep = abRoomB.value;
    abRoomB.replaceChildren(h("option", { value: "" }, t("本直播间", "This room")),
      ...rooms.filter((r) => r.slug !== room).map((r) => h("option", { value: r.slug }, (r.status === "live" ? "● " : "") + rtitle(r))));
    abRoomB.value = rooms.some((r) => r.slug === keep && keep !== room) ? keep : "";
  }
  function fillSelect(sel, products, i) {
    const ids = products.map((p) => String(p.product_id));
    if (ids.join() === sel.dataset.ids) return;
    sel.dataset.ids = ids.join();
    const keep = sel.value;
    sel.replaceChildren(...products.map((p) => h("option", { value: p.product_id }, pname(p))));
    sel.value = ids.includes(keep) ? keep : ids[Math.min(i, ids.length - 1)] || "";
  }
  function fillABChoices(products) {
    fillSelect(abA, products, 0);
    if (!abRoomB.value) fillSelect(abB, products, 1);
    else if (roomBProducts[abRoomB.value]) fillSelect(abB, roomBProducts[abRoomB.value], 0);
  }
  async function pickRoomB() {
    const slug = abRoomB.value;
    if (slug && !roomBProducts[slug]) roomBProducts[slug] = (await api("GET", "/api/v1/rooms/" + encodeURIComponent(slug) + "/stats")).products;
    abB.dataset.ids = "";
    if (slug) fillSelect(abB, roomBProducts[slug], 0);
    else fillSelect(abB, (await api("GET", "/api/v1/rooms/" + encodeURIComponent(room) + "/stats")).products, 1);
    await slowTick(true);
  }
  abRoomB.addEventListener("change", () => pickRoomB().catch(() => {}));
  function renderAB(ab) {
    const pc = (x) => (100 * x).toFixed(1) + "%";
    const side = (c, title) => {
      const arm = (x, tag) => h("tr", {}, h("td", {}, tag + " · " + pname(x), c.across_rooms ? h("span", { class: "dash-ab-room" }, rtitle({ title: x.room_title, title_en: x.room_title_en }) || x.room) : null),
        h("td", { class: "num" }, x.successes + " / " + x.trials), h("td", { class: "num" }, pc(x.rate)));
      const stat = !c.paired ? "z = " + c.z.toFixed(2) : c.paired.test === "chi_square_cc" ? "χ² = " + c.paired.chi_square.toFixed(2) : t("精确二项", "exact binomial");
      return h("div", { class: "dash-ab-side", "data-metric": c.metric, "data-across": c.across_rooms ? "1" : "" },
        h("h3", {}, title),
        h("table", { class: "data dash-ab-arms" }, h("thead", {}, h("tr", {}, h("th", {}, t("款", "Variant")), h("th", { class: "num" }, c.across_rooms ? t("人数 / 各自直播间看到卡片的观众", "Viewers / shown the card in its room") : t("人数 / 看到卡片的观众", "Viewers / shown the card")), h("th", { class: "num" }, t("比例", "Rate")))),
          h("tbody", {}, arm(c.a, "A"), arm(c.b, "B"))),
        c.paired ? pairs(c) : null,
        h("p", { class: "verdict " + (c.winner ? "win" : c.enough_data ? "" : "wait"), "data-winner": c.winner || "" }, SL.lang === "en" ? c.verdict_en : c.verdict),
        h("p", { class: "muted small" }, t(c.tests_zh || c.tests, c.tests) + " · ", h("span", { class: "dash-ab-stat" }, stat), " · ",
          h("span", { class: "dash-ab-stat" }, "p " + (c.p_value < 0.0001 ? "< 0.0001" : "= " + c.p_value.toFixed(4))), " · ",
          h("span", { class: "dash-ab-stat" }, "P(B > A) " + (c.p_b_beats_a > 0.999 ? "> 99.9%" : c.p_b_beats_a < 0.001 ? "< 0.1%" : "= " + pc(c.p_b_beats_a)))));
    };
    // The paired table McNemar's test reads (present in one live): each
    // viewer shown both cards counted once, by their outcome on A and on B.
    const pairs = (c) => {
      const p = c.paired, n = p.a_only + p.b_only + p.both + p.neither;
      const asked = c.metric === "asked";
      const cells = [
        ["a_only", asked ? t("只问了 A", "Asked A only") : t("只买了 A", "Bought A only")],
        ["b_only", asked ? t("只问了 B", "Asked B only") : t("只买了 B", "Bought B only")],
        ["both", asked ? t("两款都问了", "Asked both") : t("两款都买了", "Bought both")],
        ["neither", asked ? t("都没问", "Asked neither") : t("都没买", "Bought neither")],
      ];
      return h("div", { class: "dash-ab-pairs" },
        h("p", { class: "small muted" }, t("两款都看到的 " + n + " 位观众，按每人的两个结果配对（McNemar 检验）", "The " + n + " viewers shown both cards, paired by each one's two outcomes (McNemar's test)")),
        h("table", { class: "data" }, h("thead", {}, h("tr", {}, ...cells.map(([k, label]) => h("th", { class: "num" + (k.endsWith("only") ? " discordant" : "") }, label)))),
          h("tbody", {}, h("tr", {}, ...cells.map(([k]) => h("td", { class: "num" + (k.endsWith("only") ? " discordant" : ""), "data-cell": k }, String(p[k])))))));
    };
    $("dash-ab").replaceChildren(h("div", { class: "dash-ab-grid" }, side(ab.asked, t("被问得多（提问的观众）", "Asked about more (viewers who asked)")), side(ab.converted, t("卖得好（付款的观众）", "Converts better (viewers who paid)"))));
  }
  let slowAt = 0;
  async function slowTick(force) {
    if (!force && Date.now() - slowAt < 10000) return;
    slowAt = Date.now();
    const slug = encodeURIComponent(room);
    renderSignals(await api("GET", "/api/v1/rooms/" + slug + "/insights"));
    const roomB = abRoomB.value;
    const ok = abA.value && abB.value && (roomB || abA.value !== abB.value);
    if (ok) renderAB(await api("GET", "/api/v1/rooms/" + slug + "/ab?a=" + abA.value + "&b=" + abB.value + (roomB ? "&room_b=" + encodeURIComponent(roomB) : "")));
    else $("dash-ab").replaceChildren(h("p", { class: "muted" }, t("选两款不同的商品，或为 B 选另一场直播。", "Pick two different products, or another room for B.")));
    document.body.dataset.slowTicks = String(Number(document.body.dataset.slowTicks || 0) + 1);
  }
  for (const sel of [abA, abB]) sel.addEventListener("change", () => slowTick(true).catch(() => {}));

  let busy = false;
  async function tick() {
    if (busy) return;
    busy = true;
    try {
      $("dash-room-view").classList.toggle("hidden", !room);
      $("dash-brand-view").classList.toggle("hidden", !!room);
      if (room) {
        const st = await api("GET", "/api/v1/rooms/" + encodeURIComponent(room) + "/stats");
        renderRoom(st);
        fillABChoices(st.products);
        await slowTick(false).catch(() => {}); // the numbers above keep their 2 s even if this fails
      } else {
        const [rooms, stores] = await Promise.all([api("GET", "/api/v1/insight/rooms"), api("GET", "/api/v1/reports/stores").catch(() => ({ stores: [] }))]);
        renderBrand(rooms.rooms, stores.stores || []);
      }
      Object.values(charts).forEach((c) => c.resize());
      const u = $("dash-updated"); if (u) u.textContent = t("更新于 ", "Updated ") + new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" });
      document.body.dataset.ticks = String(Number(document.body.dataset.ticks || 0) + 1);
    } catch (e) { /* next tick retries */ } finally { busy = false; }
  }
  loadRooms().catch(() => {}).then(tick);
  setInterval(tick, 2000);
})();
