// The embeddable room card tells the page that frames it how tall it is,
// so the host page can size its iframe (message {shelflive: "embed", slug, height}).
"use strict";
(function () {
  const card = document.getElementById("embed-card");
  if (!card || window.parent === window) return;
  const send = () => window.parent.postMessage({ shelflive: "embed", slug: card.dataset.slug, height: Math.ceil(document.documentElement.scrollHeight) }, "*");
  send();
  window.addEventListener("load", send);
})();
