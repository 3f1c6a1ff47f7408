// The room: live-player on the room's HTTP-FLV URL, comments and the
// pinned product card over the room protocol (lib/socket.js, as the web
// page), likes, comments and 开播提醒 (a subscribe message).
const api = require("../../lib/api");
const { connect } = require("../../lib/socket");
const { t } = require("../../lib/i18n");
const fmt = require("../../lib/format");
const subscribe = require("../../lib/subscribe");
const config = require("../../config");

const MAX_COMMENTS = 40;

const labels = () => ({
  viewers: t("观看", "Watching"), featuring: t("讲解中", "Now featuring"), buy: t("立即购买", "Buy now"), soldOut: t("已抢光", "Sold out"),
  say: t("说点什么…", "Say something…"), send: t("发送", "Send"), remind: t("开播提醒", "Remind me"),
});

const available = (p) => (p.skus || []).reduce((n, k) => n + (k.active === false ? 0 : (k.available || 0)), 0);
const onHold = (p) => available(p) <= 0 && (p.skus || []).some((k) => k.active !== false && k.held > 0);
const minPrice = (p) => Math.min(...(p.skus || []).filter((k) => k.active !== false).map((k) => k.price_fen));

// card is the pinned product as the page shows it.
function card(p) {
  const left = available(p);
  return {
    id: p.id, name: fmt.productName(p), image: p.image ? api.abs(p.image) : "", price: fmt.yuan(minPrice(p)), soldOut: left <= 0,
    stock: onHold(p) ? t("暂停销售 — 冷链复核中", "On hold — cold chain under review")
      : left <= 0 ? t("已售罄", "Sold out") : t("仅剩 " + left + " 件", "Only " + left + " left"),
  };
}

Component({
  data: {
    text: {}, slug: "", title: "", status: "", statusText: "", note: "", onAir: false, flv: "", viewers: 0, likes: 0, likesText: "0",
    comments: [], lastComment: "", dropped: 0, droppedText: "", pinned: null, draft: "", error: "",
  },
  methods: {
    onLoad(query) {
      this.slug = (query && query.slug) || config.room;
      this.products = {};
      this.pinnedID = 0;
      this.pendingLikes = 0;
      this.likeTotal = 0;
      this.setData({ text: labels(), slug: this.slug });
      subscribe.prefetch().catch(() => {});
      return this.load();
    },
    onUnload() {
      if (this.sock) this.sock.close();
      clearTimeout(this.likeTimer);
    },
    async load() {
      let st;
      try { st = await api.get("/api/v1/rooms/" + encodeURIComponent(this.slug)); } catch (e) { this.setData({ error: e.message }); return; }
      this.roomID = st.room.id;
      this.state(st);
      try {
        const d = await api.get("/api/v1/rooms/" + encodeURIComponent(this.slug) + "/comments");
        for (const c of d.comments || []) this.addComment({ id: String(c.id), name: c.author_name, text: c.body, host: c.author_kind === "staff" });
        this.flushComments();
      } catch (e) { /* comments come with the next batch */ }
      // A room for a segment keeps its goods on lineup:<id>; only viewers in
      // the segment may follow it (docs/PROTOCOL.md "Rooms for a segment").
      const topics = ["room:" + st.room.id];
      if (st.gate && !st.locked) topics.push("lineup:" + st.room.id);
      this.sock = connect(topics, {
        snapshot: (topic, s) => { if (s && s.room && (!s.locked || topics.length === 1)) this.state(s); },
        event: (topic, type, d) => this.event(type, d),
        batch: (topic, b) => {
          for (const c of b.comments || []) this.addComment(c);
          this.flushComments();
          const patch = {};
          if (b.viewers !== undefined) patch.viewers = b.viewers;
          if (b.dropped > 0) { patch.dropped = b.dropped; patch.droppedText = t("评论太热闹，另有 " + b.dropped + " 条未显示", b.dropped + " more comments not shown"); }
          if (Object.keys(patch).length) this.setData(patch);
          if (b.likes !== undefined) this.setLikes(b.likes);
        },
        own: (topic, comments) => { for (const c of comments) this.addComment(c, true); this.flushComments(); },
      });
    },
    // state applies a full room state (the API's or a snapshot).
    state(s) {
      for (const p of s.products || []) this.products[p.id] = p;
      if (s.pinned) this.products[s.pinned.id] = s.pinned;
      this.pinnedID = s.pinned ? s.pinned.id : 0;
      const pb = s.playback || {};
      this.setData({
        title: s.room.title, viewers: s.viewers || 0, pinned: this.pinnedID ? card(this.products[this.pinnedID]) : null,
        onAir: s.room.status === "live" && !!pb.on_air && !!pb.flv, flv: api.abs(pb.flv || ""),
      });
      this.setStatus(s.room.status);
      this.setLikes(s.likes || 0);
    },
    event(type, d) {
      switch (type) {
        case "card.pinned": this.products[d.product.id] = d.product; this.pinnedID = d.product.id; this.setData({ pinned: card(d.product) }); break;
        case "card.unpinned": this.pinnedID = 0; this.setData({ pinned: null }); break;
        case "product.updated":
          this.products[d.product.id] = d.product;
          if (d.product.id === this.pinnedID) this.setData({ pinned: card(d.product) });
          break;
        case "room.status": this.setStatus(d.status); if (d.status === "ended") this.setData({ onAir: false }); break;
        case "stream.status":
          if (d.on_air && d.playback && d.playback.flv) this.setData({ onAir: this.data.status === "live", flv: api.abs(d.playback.flv), note: "" });
          else if (!d.on_air) this.setData({ onAir: false, note: t("主播网络波动，正在重连…", "The host is reconnecting…") });
          break;
        case "comment.deleted": this.setData({ comments: this.data.comments.filter((c) => c.id !== String(d.id)) }); break;
        case "room.audience": if (this.sock) this.sock.close(); this.load(); break; // who may see the goods changed
        default: // flash sales, polls, coupons, draws: the web page has them; not built here yet
      }
    },
    setStatus(st) {
      this.setData({
        status: st,
        statusText: st === "live" ? "● " + t("直播中", "LIVE") : st === "ended" ? t("已结束", "Ended") : t("未开始", "Soon"),
        note: st === "ended" ? t("直播已结束", "This live has ended") : st === "live" ? "" : t("直播尚未开始", "The live has not started"),
      });
    },
    setLikes(n) {
      if (n > this.likeTotal) this.likeTotal = n;
      this.setData({ likes: this.likeTotal, likesText: this.likeTotal >= 10000 ? (this.likeTotal / 10000).toFixed(1) + t("万", "w") : String(this.likeTotal) });
    },
    addComment(c, mine) {
      this.pendingComments = this.pendingComments || [];
      const id = c.id ? String(c.id) : "";
      if (id && (this.data.comments.some((x) => x.id === id) || this.pendingComments.some((x) => x.id === id))) return;
      this.seq = (this.seq || 0) + 1;
      this.pendingComments.push({ key: "c" + this.seq, id, name: c.name || c.author_name || "", text: c.text || c.body || "", host: !!c.host, mine: !!mine });
    },
    flushComments() {
      if (!this.pendingComments || !this.pendingComments.length) return;
      const list = this.data.comments.concat(this.pendingComments).slice(-MAX_COMMENTS);
      this.pendingComments = [];
      this.setData({ comments: list, lastComment: list.length ? list[list.length - 1].key : "" });
    },
    onDraft(e) { this.setData({ draft: e.detail.value }); },
    async onSend() {
      const text = (this.data.draft || "").trim();
      if (!text) return;
      try {
        const c = await api.authed("POST", "/api/v1/rooms/" + encodeURIComponent(this.slug) + "/comments", { text });
        this.addComment({ id: String(c.id), name: c.author_name, text: c.body }, true);
        this.flushComments();
        this.setData({ draft: "", error: "" });
      } catch (e) {
        this.setData({ error: e.message });
      }
    },
    // Likes are counted here and sent in batches (at most 50 a request).
    onLike() {
      this.pendingLikes++;
      this.setLikes(this.likeTotal + 1);
      if (this.likeTimer) return;
      this.likeTimer = setTimeout(() => {
        const n = Math.min(this.pendingLikes, 50);
        this.pendingLikes = 0; this.likeTimer = null;
        api.request("POST", "/api/v1/rooms/" + encodeURIComponent(this.slug) + "/likes", { count: n }).catch(() => {}); // best effort
      }, 600);
    },
    onBuy(e) {
      const id = Number(e.currentTarget.dataset.product);
      wx.navigateTo({ url: "/pages/checkout/checkout?slug=" + encodeURIComponent(this.slug) + "&product=" + id });
    },
    // 开播提醒: WeChat's subscribe dialog first (it must follow the tap),
    // then 预约 the live, which is what the reminders go out for.
    async onRemind() {
      try {
        const grants = await subscribe.ask(["live_start"]);
        await api.authed("PUT", "/api/v1/rooms/" + encodeURIComponent(this.slug) + "/subscription").catch(() => {}); // a live already on needs none
        if (grants) wx.showToast({ title: t("开播前会提醒你", "We'll remind you"), icon: "none" });
      } catch (e) {
        this.setData({ error: e.message || t("未能订阅提醒", "Could not subscribe") });
      }
    },
    onPlayerState(e) {
      // 2006: the stream ended; -2301: the player gave up reconnecting.
      if (e.detail.code === 2006 || e.detail.code === -2301) this.setData({ note: t("直播信号中断", "The live signal dropped") });
    },
  },
});
