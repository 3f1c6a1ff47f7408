// The live player (HTTP-FLV through mpegts.js), served joined to mpegts.js
// as flv.bundle.js. A room on air loads that bundle async right after its
// <video>, so the first frame waits for neither the page's own scripts nor
// DOMContentLoaded; the stream itself was asked for by the inline script in
// the head (window.__slEarlyStream, see web/assets.go earlyStreamScript) while the
// page was still arriving, and the loader below plays that response instead
// of asking again. The page's bundle runs once the first frame shows, and
// live.js adopts the started player.
"use strict";
(function () {
  if (window.SLPlayer || !window.mpegts) return;
  const L = mpegts;
  // The player settings are the ones docs/VIDEO.md measures
  // (internal/video/browser_test.go); TestPlayerSettingsMatchBenchmark keeps
  // them equal.
  const FLV_CONFIG = { enableWorker: false, enableStashBuffer: false, liveBufferLatencyChasing: true };

  // takeEarly hands out the head's early request for url, once.
  function takeEarly(url) {
    const e = window.__slEarlyStream;
    if (!e || e.url !== url) return null;
    window.__slEarlyStream = null;
    return e;
  }

  // EarlyFLVLoader is mpegts.js's fetch loader with one difference: its first
  // open of the page's stream reads the response the head already started.
  // Later opens (a reconnect, another stream) fetch as usual.
  class EarlyFLVLoader extends L.BaseLoader {
    constructor() {
      super("early-fetch-loader");
      this._needStash = true;
      this._ctl = null;
      this._aborted = false;
      this._received = 0;
    }
    static isSupported() { return !!(window.fetch && window.ReadableStream); }
    destroy() { if (this.isWorking()) this.abort(); super.destroy(); }
    open(dataSource, range) {
      this._range = range;
      const early = takeEarly(dataSource.url);
      let res;
      if (early) { this._ctl = early.ctl; res = early.res; }
      else {
        this._ctl = window.AbortController ? new AbortController() : null;
        res = fetch(dataSource.url, { mode: "cors", credentials: "same-origin", signal: this._ctl ? this._ctl.signal : undefined });
      }
      this._status = L.LoaderStatus.kConnecting;
      res.then((r) => {
        if (this._aborted) { if (r && r.body) r.body.cancel().catch(() => {}); this._status = L.LoaderStatus.kIdle; return; }
        if (!r) throw new Error("the early stream request failed");
        if (!r.ok) { this._fail(L.LoaderErrors.HTTP_STATUS_CODE_INVALID, { code: r.status, msg: r.statusText }); return; }
        return this._pump(r.body.getReader());
      }).catch((err) => { if (!this._aborted) this._fail(L.LoaderErrors.EXCEPTION, { code: -1, msg: err.message }); });
    }
    _pump(reader) {
      return reader.read().then(({ done, value }) => {
        if (this._aborted) { this._status = L.LoaderStatus.kComplete; return reader.cancel(); }
        if (done) {
          this._status = L.LoaderStatus.kComplete;
          if (this._onComplete) this._onComplete(this._range.from, this._range.from + this._received - 1);
          return;
        }
        this._status = L.LoaderStatus.kBuffering;
        // mpegts.js takes whole ArrayBuffers; a chunk is one unless it is a view into a bigger one.
        const chunk = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value.buffer : value.slice().buffer;
        const start = this._range.from + this._received;
        this._received += chunk.byteLength;
        if (this._onDataArrival) this._onDataArrival(chunk, start, this._received);
        return this._pump(reader);
      });
    }
    abort() {
      this._aborted = true;
      if (this._ctl) try { this._ctl.abort(); } catch (e) { /* already done */ }
    }
    _fail(type, info) {
      this._status = L.LoaderStatus.kError;
      if (this._onError) this._onError(type, info);
    }
  }

  // start plays the live FLV url in video. The handle's onError (set by
  // whoever adopts it) hears a failure, also one that came before it was set.
  function start(url, video) {
    L.LoggingControl.enableVerbose = false; L.LoggingControl.enableDebug = false; L.LoggingControl.enableInfo = false; // it logs every demuxer step by default
    // The stream is read while MediaSource opens (deferLoadAfterSourceOpen
    // waits for it by default): on a busy phone that event comes late, and
    // the early response is already there.
    const player = L.createPlayer({ type: "flv", isLive: true, url }, Object.assign({ customLoader: EarlyFLVLoader, deferLoadAfterSourceOpen: false }, FLV_CONFIG));
    const handle = { url, failed: false, onError: null, destroy: () => player.destroy() };
    player.on(L.Events.ERROR, () => { handle.failed = true; if (handle.onError) handle.onError(); });
    player.attachMediaElement(video); player.load();
    player.play().catch(() => {});
    return handle;
  }

  let booted = null;
  window.SLPlayer = {
    supported: () => L.getFeatureList().mseLivePlayback,
    // adopt returns the player this script started for url (once), or null.
    adopt(url) { const b = booted; booted = null; return b && b.url === url ? b : (b && b.destroy(), null); },
    start,
    // dropEarly cancels the head's early request when the page plays something else.
    dropEarly() { const e = window.__slEarlyStream; window.__slEarlyStream = null; if (e && e.ctl) try { e.ctl.abort(); } catch (err) { /* done */ } },
  };
  // The page's bundle waits for the first frame (earlyStreamScript), or 1.5 s
  // of a player that shows none, or a player that fails or cannot start.
  // Without the head's script (something kept it from running), run the
  // bundle here, once, so the page never goes without it.
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
