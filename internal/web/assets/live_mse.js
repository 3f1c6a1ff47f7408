// The live player: the server's fragmented MP4 (/media/live/{slug}.mp4)
// appended to a MediaSource as it arrives. The server has already muxed
// what MSE takes and names the codecs in the Content-Type, so there is no
// demuxer here (mpegts.js, 280 KB, was most of a slow phone's time to first
// frame). A room on air loads this script async right after its <video>;
// the stream itself was asked for by the inline script in the head
// (window.__slEarlyStream, see web/assets.go earlyStreamScript) while the
// page was still arriving, and start() plays that response instead of
// asking again. The page's bundle runs once the first frame shows, and
// live.js adopts the started player (window.SLPlayer) or, when it fails,
// falls back to HLS.
"use strict";
(function () {
  if (window.SLPlayer) return;
  // iPhone Safari has only ManagedMediaSource: it keeps native HLS.
  const MS = window.MediaSource;
  // Live-edge settings. Fragments are one frame each, so the buffer ahead
  // of the playhead is how far the viewer is behind the live. A joiner
  // starts at the last keyframe (up to a GOP, ~1 s, behind) so the first
  // frame shows at once; it then plays at RATE until it is CAUGHT_UP, and
  // again whenever it falls more than CATCH_UP behind (a network burst). A
  // player more than EDGE_MAX behind (a slow start, a tab in the
  // background) jumps to EDGE_AIM, as mpegts.js's latency chasing did.
  // Chrome keeps the pitch at 1.2×; the live is muted until a tap anyway.
  const CATCH_UP = 0.8, CAUGHT_UP = 0.4, RATE = 1.2, EDGE_MAX = 1.5, EDGE_AIM = 0.5;
  // Played media kept behind the playhead; older is removed so a long
  // watch never fills the SourceBuffer (QuotaExceededError).
  const KEEP_BEHIND = 10;
  // No bytes for this long means the stream is gone (the server sends a
  // fragment per frame, ~40 per second).
  const STALL_MS = 5000;

  // takeEarly hands out the head's early request for url, once.
  function takeEarly(url) {
    const e = window.__slEarlyStream;
    if (!e || e.url !== url) return null;
    window.__slEarlyStream = null;
    return e;
  }

  // start plays the live fMP4 url in video and returns its handle. The
  // handle's onError (set by whoever adopts it) hears a failure, also one
  // that came before it was set.
  function start(url, video) {
    const handle = { url, kind: "mse", failed: false, onError: null, destroy };
    const early = takeEarly(url);
    const ctl = early ? early.ctl : (window.AbortController ? new AbortController() : null);
    const res = early ? early.res : fetch(url, { mode: "cors", credentials: "same-origin", signal: ctl ? ctl.signal : undefined });
    const ms = new MS();
    const queue = [];
    let sb = null, reader = null, dead = false, lastData = Date.now(), started = false, objURL = "", timer = 0;

    function destroy() {
      if (dead) return;
      dead = true;
      clearInterval(timer);
      video.removeEventListener("error", onVideoError);
      if (ctl) try { ctl.abort(); } catch (e) { /* already done */ }
      if (reader) reader.cancel().catch(() => {});
      if (objURL) { video.removeAttribute("src"); video.load(); URL.revokeObjectURL(objURL); }
    }
    function fail(why) {
      if (dead) return;
      handle.failed = true;
      handle.why = why;
      destroy();
      if (handle.onError) handle.onError(why);
    }
    const onVideoError = () => fail("media error");
    video.addEventListener("error", onVideoError);

    // append feeds the SourceBuffer one merged batch at a time: MSE refuses
    // an append while the previous one (or a remove) is running.
    function append() {
      if (dead || !sb || sb.updating || !queue.length) return;
      let data = queue[0];
      if (queue.length > 1) {
        data = new Uint8Array(queue.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of queue) { data.set(c, at); at += c.byteLength; }
      }
      queue.length = 0;
      try { sb.appendBuffer(data); } catch (e) {
        if (e.name !== "QuotaExceededError" || !trim(1, 0.5)) return fail("append: " + e.name);
        queue.unshift(data); // appended again once the removal is done
      }
    }
    // trim removes media older than keep seconds behind the playhead once
    // there are more than slack seconds of it (one removal every few
    // seconds, not one per frame); it reports whether it removed anything.
    function trim(keep, slack) {
      const b = video.buffered;
      if (!sb || sb.updating || !b.length) return false;
      const to = video.currentTime - keep;
      if (to <= b.start(0) + slack) return false;
      sb.remove(b.start(0), to);
      return true;
    }
    // afterAppend starts playback at the first buffered frame (a late
    // joiner's media starts at the last keyframe, not at 0).
    function afterAppend() {
      const b = video.buffered;
      if (!started && b.length) {
        started = true;
        if (video.currentTime < b.start(0)) video.currentTime = b.start(0);
        video.play().catch(() => {});
      }
      append();
    }
    // chase keeps the playhead near the newest frame (see CATCH_UP).
    function chase() {
      const b = video.buffered;
      if (!started || !b.length || video.paused) return;
      const behind = b.end(b.length - 1) - video.currentTime;
      if (behind > EDGE_MAX) video.currentTime = b.end(b.length - 1) - EDGE_AIM;
      else if (behind > CATCH_UP && video.playbackRate === 1) video.playbackRate = RATE;
      else if (behind < CAUGHT_UP && video.playbackRate !== 1) video.playbackRate = 1;
    }

    function pump() {
      return reader.read().then(({ done, value }) => {
        if (dead) return;
        if (done) return fail("stream ended");
        lastData = Date.now();
        queue.push(value);
        append();
        return pump();
      });
    }
    timer = setInterval(() => {
      if (Date.now() - lastData > STALL_MS) return fail("stalled");
      chase();
      if (!trim(KEEP_BEHIND, 5)) append();
    }, 250);

    ms.addEventListener("sourceopen", () => {
      res.then((r) => {
        if (dead) return;
        if (!r) throw new Error("the early stream request failed");
        if (!r.ok || !r.body) return fail("HTTP " + r.status);
        const type = r.headers.get("Content-Type") || "";
        if (!MS.isTypeSupported(type)) return fail("unsupported " + type);
        sb = ms.addSourceBuffer(type);
        sb.addEventListener("updateend", afterAppend);
        sb.addEventListener("error", () => fail("source buffer error"));
        reader = r.body.getReader();
        lastData = Date.now();
        return pump();
      }).catch((e) => fail(e && e.message || "fetch failed"));
    }, { once: true });
    objURL = URL.createObjectURL(ms);
    video.src = objURL;
    return handle;
  }

  let booted = null;
  window.SLPlayer = {
    kind: "mse",
    supported: () => !!(MS && window.fetch && window.ReadableStream && MS.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')),
    // adopt returns the player this script started for url (once), or null.
    adopt(url) { const b = booted; booted = null; return b && b.url === url ? b : (b && b.destroy(), null); },
    start,
    // dropEarly cancels the head's early request when the page plays something else.
    dropEarly() { const e = window.__slEarlyStream; window.__slEarlyStream = null; if (e && e.ctl) try { e.ctl.abort(); } catch (err) { /* done */ } },
  };
  // The page's bundle waits for the first frame (earlyStreamScript), or
  // 1.5 s of a player that shows none, or a player that fails or cannot
  // start. Without the head's script (something kept it from running), run
  // the bundle here, once, so the page never goes without it.
  let appStarted = false;
  const app = () => {
    if (window.__slApp) return window.__slApp();
    const src = document.getElementById("live") && document.getElementById("live").dataset.appJs;
    if (appStarted || !src) return;
    appStarted = true;
    const el = document.createElement("script"); el.src = src; document.body.appendChild(el);
  };
  const early = window.__slEarlyStream, video = document.getElementById("video");
  if (early && video && window.SLPlayer.supported()) {
    booted = start(early.url, video);
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(app);
    video.addEventListener("playing", app, { once: true });
    booted.onError = app; // replaced by live.js's own when it adopts the player
    setTimeout(app, 1500);
  } else app();
})();
