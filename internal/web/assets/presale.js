// Pre-sale page: the progress moves live (presale:<id> topic), the buyer
// joins (a deposit or full-price order, then the usual order page to pay)
// and pays the balance once the minimum is reached.
"use strict";
(function () {
  const SL = window.SL;
  const { t, api } = SL;
  const $ = (id) => document.getElementById(id);
  const page = $("presale-page");
  if (!page) return;
  const id = page.dataset.presale;
  const yuan = (fen) => "¥" + (fen / 100).toFixed(2);

  function setBar(pct) { $("presale-bar").style.width = Math.min(100, pct) + "%"; }
  setBar(Number($("presale-bar").dataset.width || 0));

  function render(p) {
    if (!p) return;
    $("presale-percent").textContent = p.percent + "%";
    $("presale-committed").textContent = p.committed;
    $("presale-buyers").textContent = p.buyers;
    setBar(p.percent);
    if (p.status !== page.dataset.status) location.reload(); // settled: the page changes shape
  }
  SL.connect(["presale:" + id], {
    snapshot(topic, s) { render(s && s.presale); },
    event(topic, type, d) { if (type === "presale.progress" || type === "presale.settled") render(d.presale); },
  });

  const form = $("presale-form");
  if (form) {
    const qty = $("presale-qty"), ful = $("presale-fulfilment"), join = $("presale-join");
    const err = $("presale-error");
    const key = "presale-" + id + "-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    const amount = () => { $("presale-amount").textContent = yuan(Number(join.dataset.unit) * Math.max(1, Number(qty.value) || 1)); };
    qty.addEventListener("input", amount);
    ful.addEventListener("change", () => {
      const d = ful.value === "delivery";
      $("presale-store-row").classList.toggle("hidden", d);
      $("presale-address-row").classList.toggle("hidden", !d);
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.classList.add("hidden");
      join.disabled = true;
      const body = { quantity: Number(qty.value), fulfilment: ful.value };
      if (ful.value === "pickup") body.store_id = Number($("presale-store").value);
      else { body.contact_name = $("presale-name").value; body.address = $("presale-address").value; }
      try {
        const o = await api("POST", "/api/v1/presales/" + id + "/commit", body, { "Idempotency-Key": key });
        location.href = "/orders/" + o.id;
      } catch (e) {
        err.textContent = e.message; err.classList.remove("hidden"); join.disabled = false;
      }
    });
  }

  for (const b of document.querySelectorAll(".balance-btn")) {
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const o = await api("POST", "/api/v1/presales/" + id + "/balance", { order_id: Number(b.dataset.order) });
        location.href = "/orders/" + o.id;
      } catch (e) { SL.toast(e.message); b.disabled = false; }
    });
  }
})();
