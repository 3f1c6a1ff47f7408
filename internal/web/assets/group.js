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

  // The group's pre-sales and co-creation drafts move live (presale:<id>
  // and cocreate:<id> topics, one connection).
  const cards = [...document.querySelectorAll(".presale-card")];
  const bar = (card, pct) => { card.querySelector(".presale-bar").style.width = Math.min(100, pct) + "%"; };
  for (const c of cards) bar(c, Number(c.querySelector(".presale-bar").dataset.width || 0));
  const showPresale = (p) => {
    const c = cards.find((x) => x.dataset.presale === String(p.id));
    if (!c) return;
    c.querySelector(".presale-pct").textContent = p.percent + "%";
    c.querySelector(".presale-committed").textContent = p.committed;
    bar(c, p.percent);
  };
  const login = () => {
    const f = $("buyer-login");
    if (f) f.scrollIntoView({ behavior: "smooth" });
    SL.toast(t("请先登录再投票", "Log in to vote"));
  };
  let drafts = [], votes = {};
  try { drafts = JSON.parse($("group-drafts-data").textContent) || []; votes = JSON.parse($("group-draft-votes").textContent) || {}; } catch (e) { /* none */ }
  const draftCards = new Map();
  for (const d of drafts) {
    const box = document.querySelector('.cc-card[data-draft="' + d.id + '"]');
    if (box) draftCards.set(String(d.id), SL.cocreateCard.mount(box, d, votes[d.id] || [], login));
  }
  const topics = cards.map((c) => "presale:" + c.dataset.presale).concat([...draftCards.keys()].map((id) => "cocreate:" + id));
  if (topics.length) {
    const show = (d) => {
      if (d && d.presale) showPresale(d.presale);
      if (d && d.draft && draftCards.has(String(d.draft.id))) draftCards.get(String(d.draft.id)).render(d.draft);
    };
    SL.connect(topics, {
      snapshot(topic, s) { show(s); },
      event(topic, type, d) { show(d); },
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
        const body = { text: $("post-text").value, images: photos };
        const recipe = readRecipe();
        if (recipe) body.recipe = recipe;
        await api("POST", "/api/v1/groups/" + slug + "/posts", body);
        location.reload();
      } catch (e) { $("post-error").textContent = e.message; $("post-error").classList.remove("hidden"); }
    });
  }

  // Recipe editor (trusted fans): title, ingredients — each
  // optionally linked to a product of the shop, so "buy all" can order it —
  // and steps.
  function readRecipe() {
    const ed = $("recipe-editor");
    if (!ed || ed.classList.contains("hidden") || !$("recipe-title").value.trim()) return null;
    const ingredients = [...ed.querySelectorAll(".ing-row")].map((r) => ({
      name: r.querySelector(".ing-name").value, amount: r.querySelector(".ing-amount").value,
      sku_id: Number(r.querySelector(".ing-sku").value) || 0, quantity: Number(r.querySelector(".ing-qty").value) || 0,
    })).filter((i) => i.name.trim());
    return { title: $("recipe-title").value, steps: $("recipe-steps").value, ingredients };
  }
  if ($("recipe-editor")) {
    let skus = [];
    try { skus = JSON.parse($("recipe-skus").textContent) || []; } catch (e) { /* none */ }
    const addRow = () => {
      const sel = h("select", { class: "ing-sku", "aria-label": t("关联商品", "Linked product") }, h("option", { value: "0" }, t("不关联商品", "No product")),
        skus.map((k) => h("option", { value: k.sku_id }, k.name + " " + yuan(k.price_fen))));
      const name = h("input", { class: "ing-name", maxlength: "40", placeholder: t("食材", "Ingredient") });
      sel.addEventListener("change", () => { // a linked product names an empty line
        const k = skus.find((x) => String(x.sku_id) === sel.value);
        if (k && !name.value) name.value = k.name.split(" · ")[0];
      });
      $("ing-rows").append(h("div", { class: "ing-row" }, name,
        h("input", { class: "ing-amount", maxlength: "20", placeholder: t("用量", "Amount") }), sel,
        h("input", { class: "ing-qty", type: "number", min: "1", max: "99", value: "1", "aria-label": t("购买件数", "Units to buy") }),
        h("button", { class: "link-btn", type: "button", "aria-label": t("删除", "Remove"), onclick: (ev) => ev.target.closest(".ing-row").remove() }, "×")));
    };
    $("ing-add").addEventListener("click", addRow);
    $("recipe-toggle").addEventListener("click", () => {
      const ed = $("recipe-editor");
      ed.classList.toggle("hidden");
      if (!ed.classList.contains("hidden") && !$("ing-rows").children.length) { addRow(); addRow(); }
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
      $("buy-lines").replaceChildren(...items.map((i) => { total += i.price_fen * i.quantity; return h("li", {}, h("span", {}, SL.itemName(i)), h("span", {}, "× " + i.quantity), h("span", {}, yuan(i.price_fen * i.quantity))); }));
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
