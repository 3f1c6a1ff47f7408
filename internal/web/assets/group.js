// Topic group page: join, post (text and photos), comment, hide (moderators),
// and "buy all ingredients" of a recipe in one order.
"use strict";
(function () {
  const SL = window.SL;
  const { h, t, api } = SL;
  const $ = (id) => document.getElementById(id);
  const page = $("group-page");
  if (!page) return;
  const slug = page.dataset.group;
  const yuan = (fen) => "¥" + (fen / 100).toFixed(2);
  let posts = [];
  try { posts = JSON.parse($("group-posts").textContent) || []; } catch (e) { /* none */ }

  // The group's pre-sales: progress moves live (presale:<id> topics).
  const cards = [...document.querySelectorAll(".presale-card")];
  const bar = (card, pct) => { card.querySelector(".presale-bar").style.width = Math.min(100, pct) + "%"; };
  for (const c of cards) bar(c, Number(c.querySelector(".presale-bar").dataset.width || 0));
  if (cards.length) {
    const show = (p) => {
      const c = cards.find((x) => x.dataset.presale === String(p.id));
      if (!c) return;
      c.querySelector(".presale-pct").textContent = p.percent + "%";
      c.querySelector(".presale-committed").textContent = p.committed;
      bar(c, p.percent);
    };
    SL.connect(cards.map((c) => "presale:" + c.dataset.presale), {
      snapshot(topic, s) { if (s && s.presale) show(s.presale); },
      event(topic, type, d) { if (d && d.presale) show(d.presale); },
    });
  }

  const join = $("group-join");
  if (join) join.addEventListener("click", async () => {
    join.disabled = true;
    try { await api("PUT", "/api/v1/groups/" + slug + "/membership"); location.reload(); }
    catch (e) { SL.toast(e.message); join.disabled = false; }
  });

  const form = $("post-form");
  const photos = [];
  if (form) {
    $("post-photo").addEventListener("change", async (ev) => {
      const f = ev.target.files[0];
      if (!f) return;
      const fd = new FormData(); fd.append("file", f);
      try {
        const res = await fetch("/api/v1/groups/" + slug + "/photos", { method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRF-Token": SL.csrf || "" } });
        const d = await res.json();
        if (!res.ok) throw new Error(d.detail || d.title);
        photos.push(d.url);
        $("post-thumbs").append(h("img", { src: d.url, alt: "" }));
      } catch (e) { SL.toast(e.message); }
      ev.target.value = "";
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("post-error").classList.add("hidden");
      try {
        await api("POST", "/api/v1/groups/" + slug + "/posts", { text: $("post-text").value, images: photos });
        location.reload();
      } catch (e) { $("post-error").textContent = e.message; $("post-error").classList.remove("hidden"); }
    });
  }

  async function loadComments(box, id) {
    const r = await api("GET", "/api/v1/group-posts/" + id + "/comments");
    box.querySelector(".comment-list").replaceChildren(...r.comments.map((c) => h("li", { "data-comment": c.id }, h("b", {}, c.author_name), " ", c.text,
      page.dataset.moderator ? h("button", { class: "link-btn", type: "button", onclick: async () => { await api("POST", "/api/v1/group-comments/" + c.id + "/hide"); loadComments(box, id); } }, t("隐藏", "Hide")) : null)));
  }
  for (const b of document.querySelectorAll(".show-comments")) {
    b.addEventListener("click", () => {
      const box = document.querySelector('.comments-box[data-post="' + b.dataset.post + '"]');
      box.classList.toggle("hidden");
      if (!box.classList.contains("hidden")) loadComments(box, b.dataset.post).catch((e) => SL.toast(e.message));
    });
  }
  for (const f of document.querySelectorAll(".comment-add")) {
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = f.querySelector("input");
      try {
        await api("POST", "/api/v1/group-posts/" + f.dataset.post + "/comments", { text: input.value });
        input.value = "";
        loadComments(f.closest(".comments-box"), f.dataset.post);
      } catch (e) { SL.toast(e.message); }
    });
  }
  for (const b of document.querySelectorAll(".hide-post")) {
    b.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/group-posts/" + b.dataset.post + "/hide"); b.closest(".post").remove(); } catch (e) { SL.toast(e.message); }
    });
  }

  // Buy all ingredients: the recipe's SKUs on sale, one order.
  const sheet = $("buy-sheet"), backdrop = $("buy-backdrop");
  let buying = null, key = "";
  const close = () => { sheet.classList.add("hidden"); backdrop.classList.add("hidden"); };
  backdrop.addEventListener("click", close);
  for (const b of document.querySelectorAll(".buy-all")) {
    b.addEventListener("click", () => {
      if (!$("buy-store") || !$("buy-store").options.length) { // not logged in: log in first
        const login = $("buyer-login"); if (login) login.scrollIntoView({ behavior: "smooth" });
        SL.toast(t("请先登录", "Log in first")); return;
      }
      buying = posts.find((p) => String(p.id) === b.dataset.post);
      if (!buying || !buying.recipe) return;
      const items = buying.recipe.ingredients.filter((i) => i.sku_id && i.available);
      let total = 0;
      $("buy-lines").replaceChildren(...items.map((i) => { total += i.price_fen * i.quantity; return h("li", {}, h("span", {}, i.product_name), h("span", {}, "× " + i.quantity), h("span", {}, yuan(i.price_fen * i.quantity))); }));
      $("buy-total").textContent = yuan(total);
      key = "recipe-" + buying.id + "-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
      $("buy-error").classList.add("hidden");
      sheet.classList.remove("hidden"); backdrop.classList.remove("hidden");
    });
  }
  sheet.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const o = await api("POST", "/api/v1/group-posts/" + buying.id + "/buy", { fulfilment: "pickup", store_id: Number($("buy-store").value) }, { "Idempotency-Key": key });
      location.href = "/orders/" + o.id;
    } catch (e) { $("buy-error").textContent = e.message; $("buy-error").classList.remove("hidden"); }
  });
})();
