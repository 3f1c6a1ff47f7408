// Trial (内测) page: apply with the shop's form (choice buttons, text),
// then — once chosen and the sample picked up or shipped — rate it 1–5 on
// each dimension and send the feedback. Both reload the page, which the
// server draws in its new state.
"use strict";
(function () {
  const SL = window.SL;
  const { t, api } = SL;
  const $ = (id) => document.getElementById(id);
  const page = $("trial-page");
  if (!page) return;
  const id = page.dataset.trial;
  const fail = (el, e, btn) => { el.textContent = e.message; el.classList.remove("hidden"); if (btn) btn.disabled = false; };

  // Stars of a given rating (thanks card).
  for (const s of document.querySelectorAll(".stars")) {
    const n = Number(s.dataset.n) || 0;
    s.textContent = "★".repeat(n) + "☆".repeat(5 - n);
  }

  const form = $("apply-form");
  if (form) {
    const answers = {};
    for (const b of form.querySelectorAll(".choice-btn")) {
      b.addEventListener("click", () => {
        for (const o of form.querySelectorAll('.choice-btn[data-q="' + b.dataset.q + '"]')) o.classList.toggle("on", o === b);
        answers[b.dataset.q] = b.dataset.v;
      });
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const err = $("apply-error"), btn = $("apply-send");
      err.classList.add("hidden");
      btn.disabled = true;
      for (const ta of form.querySelectorAll(".q-text")) answers[ta.dataset.q] = ta.value;
      const body = { answers };
      if ($("apply-address")) { body.contact_name = $("apply-name").value; body.address = $("apply-address").value; }
      try {
        await api("POST", "/api/v1/trials/" + id + "/apply", body);
        SL.toast(t("申请成功", "Applied"));
        location.reload();
      } catch (e) { fail(err, e, btn); }
    });
  }

  const fb = $("feedback");
  if (fb) {
    const ratings = {};
    for (const row of fb.querySelectorAll(".rate-row")) {
      const btns = row.querySelectorAll(".rate-btn");
      for (const b of btns) {
        b.addEventListener("click", () => {
          const v = Number(b.dataset.v);
          ratings[row.dataset.dim] = v;
          for (const o of btns) o.classList.toggle("on", Number(o.dataset.v) <= v);
        });
      }
    }
    fb.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const err = $("feedback-error"), btn = $("feedback-send");
      err.classList.add("hidden");
      btn.disabled = true;
      try {
        await api("POST", "/api/v1/trials/" + id + "/feedback", { ratings, text: $("feedback-text").value });
        location.reload();
      } catch (e) { fail(err, e, btn); }
    });
  }
})();
