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

  // Player plays the live fMP4 url in video. Its onError (set by whoever
  // adopts it) hears a failure, also one that came before it was set
  // (failed stays true).
  class Player {
    constructor(url, video) {
      Object.assign(this, { url, video, kind: "mse", failed: false, onError: null, why: "" });
      this.queue = []; // received bytes not yet appended
      this.sb = null; this.reader = null; this.dead = false; this.started = false; this.lastData = Date.now();
      const early = takeEarly(url);
      this.ctl = early ? early.ctl : (window.AbortController ? new AbortController() : null);
      const res = early ? early.res : fetch(url, { mode: "cors", credentials: "same-origin", signal: this.ctl ? this.ctl.signal : undefined });
      this.onVideoError = () => this.fail("media error");
      video.addEventListener("error", this.onVideoError);
      // MediaSource opens while the response is on its way (or already
      // here: the head asked for it); neither waits for the other.
      const ms = new MS();
      ms.addEventListener("sourceopen", () => res.then((r) => this.open(ms, r)).catch((e) => this.fail(e && e.message || "fetch failed")), { once: true });
      this.objURL = URL.createObjectURL(ms);
      video.src = this.objURL;
      this.timer = setInterval(() => this.tick(), 250);
    }

    // open creates the SourceBuffer from the response's Content-Type (the
    // server names the codecs) and starts reading the body.
    open(ms, r) {
      if (this.dead) return;
      if (!r) throw new Error("the early stream request failed");
      if (!r.ok || !r.body) return this.fail("HTTP " + r.status);
      const type = r.headers.get("Content-Type") || "";
      if (!MS.isTypeSupported(type)) return this.fail("unsupported " + type);
      this.sb = ms.addSourceBuffer(type);
      this.sb.addEventListener("updateend", () => this.afterAppend());
      this.sb.addEventListener("error", () => this.fail("source buffer error"));
      this.reader = r.body.getReader();
      this.lastData = Date.now();
      return this.pump();
    }

    pump() {
      return this.reader.read().then(({ done, value }) => {
        if (this.dead) return;
        if (done) return this.fail("stream ended");
        this.lastData = Date.now();
        this.queue.push(value);
        this.append();
        return this.pump();
      });
    }

    // append feeds the SourceBuffer one merged batch at a time: MSE refuses
    // an append while the previous one (or a remove) is running. Chunks
    // need not end on box boundaries: the SourceBuffer parses across them.
    append() {
      const q = this.queue;
      if (this.dead || !this.sb || this.sb.updating || !q.length) return;
      let data = q[0];
      if (q.length > 1) {
        data = new Uint8Array(q.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of q) { data.set(c, at); at += c.byteLength; }
      }
      q.length = 0;
      try { this.sb.appendBuffer(data); } catch (e) {
        if (e.name !== "QuotaExceededError" || !this.trim(1, 0.5)) return this.fail("append: " + e.name);
        q.unshift(data); // appended again once the removal is done
      }
    }

    // afterAppend starts playback at the first buffered frame (a late
    // joiner's media starts at the last keyframe, not at 0).
    afterAppend() {
      const v = this.video, b = v.buffered;
      if (!this.started && b.length) {
        this.started = true;
        if (v.currentTime < b.start(0)) v.currentTime = b.start(0);
        v.play().catch(() => {});
      }
      this.append();
    }

    // trim removes media older than keep seconds behind the playhead once
    // there are more than slack seconds of it (one removal every few
    // seconds, not one per frame); it reports whether it removed anything.
    trim(keep, slack) {
      const b = this.video.buffered;
      if (!this.sb || this.sb.updating || !b.length) return false;
      const to = this.video.currentTime - keep;
      if (to <= b.start(0) + slack) return false;
      this.sb.remove(b.start(0), to);
      return true;
    }

    // chase keeps the playhead near the newest frame (see CATCH_UP).
    chase() {
      const v = this.video, b = v.buffered;
      if (!this.started || !b.length || v.paused) return;
      const behind = b.end(b.length - 1) - v.currentTime;
      if (behind > EDGE_MAX) v.currentTime = b.end(b.length - 1) - EDGE_AIM;
      else if (behind > CATCH_UP && v.playbackRate === 1) v.playbackRate = RATE;
      else if (behind < CAUGHT_UP && v.playbackRate !== 1) v.playbackRate = 1;
    }

    tick() {
      if (Date.now() - this.lastData > STALL_MS) return this.fail("stalled");
      this.chase();
      if (!this.trim(KEEP_BEHIND, 5)) this.append();
    }

    fail(why) {
      if (this.dead) return;
      this.failed = true;
      this.why = why;
      this.destroy();
      if (this.onError) this.onError(why);
    }

    // destroy stops reading and detaches the MediaSource, so the fallback
    // can use the <video>. Idempotent.
    destroy() {
      if (this.dead) return;
      this.dead = true;
      clearInterval(this.timer);
      this.video.removeEventListener("error", this.onVideoError);
      if (this.ctl) try { this.ctl.abort(); } catch (e) { /* already done */ }
      if (this.reader) this.reader.cancel().catch(() => {});
      this.video.removeAttribute("src");
      this.video.load();
      URL.revokeObjectURL(this.objURL);
    }
  }

  let booted = null;
  window.SLPlayer = {
    kind: "mse",
    supported: () => !!(MS && window.fetch && window.ReadableStream && MS.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')),
    // adopt returns the player this script started for url (once), or null.
    adopt(url) { const b = booted; booted = null; return b && b.url === url ? b : (b && b.destroy(), null); },
    // start plays the live fMP4 url in video and returns the player.
    start: (url, video) => new Player(url, video),
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
    booted = new Player(early.url, video);
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(app);
    video.addEventListener("playing", app, { once: true });
    booted.onError = app; // replaced by live.js's own when it adopts the player
    setTimeout(app, 1500);
  } else app();
})();
