// ShelfLive service worker: shows reminder pushes (预约提醒) and opens the
// room when one is tapped. The payload is JSON from the server:
// {title, body, body_en, url, tag, opt_out}.
"use strict";
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let d = {};
  try { d = event.data ? event.data.json() : {}; } catch (e) { d = { title: "ShelfLive", body: event.data ? event.data.text() : "" }; }
  const en = (self.navigator.language || "").toLowerCase().startsWith("en");
  const body = (en && d.body_en) ? d.body_en : (d.body || "");
  event.waitUntil(self.registration.showNotification(d.title || "ShelfLive", {
    body: body,
    tag: d.tag || undefined,
    renotify: false,
    data: { url: d.url || "/", optOut: d.opt_out || "" },
    actions: d.opt_out ? [{ action: "optout", title: en ? "No more pushes" : "不再推送" }] : [],
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const target = event.action === "optout" && data.optOut ? data.optOut : (data.url || "/");
  event.waitUntil((async () => {
    const all = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const c of all) {
      if (new URL(c.url).pathname === new URL(target, self.location.origin).pathname && "focus" in c) return c.focus();
    }
    return self.clients.openWindow(target);
  })());
});
