package video

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// External mode (SHELFLIVE_MEDIA=external): an external media server such
// as SRS does ingest, playback and recording, and calls these HTTP hooks so
// that ShelfLive still decides who may publish and learns when a room's
// stream starts, stops and has been recorded. The request bodies are the
// JSON objects SRS posts (v3/v4 send client_id as a number, v5+ as a
// string); the answer is HTTP 200 {"code":0} to allow and HTTP 403 with a
// non-zero code to refuse, which every SRS version treats as a refusal.

// PlaybackTemplates are the viewer URLs of a room on the external server
// or CDN; "{slug}" is replaced by the room slug. Empty templates are left
// empty in PlaybackURLs.
type PlaybackTemplates struct {
	FLV    string `json:"flv,omitempty"`    // e.g. "https://live.example.com/live/{slug}.flv"
	HLS    string `json:"hls,omitempty"`    // e.g. "https://live.example.com/live/{slug}.m3u8"
	Replay string `json:"replay,omitempty"` // e.g. "https://vod.example.com/live/{slug}/index.m3u8"
}

// PlaybackURLs are a room's concrete viewer URLs.
type PlaybackURLs struct {
	FLV    string `json:"flv,omitempty"`
	HLS    string `json:"hls,omitempty"`
	Replay string `json:"replay,omitempty"`
}

// URLs fills the templates for slug.
func (p PlaybackTemplates) URLs(slug string) PlaybackURLs {
	f := func(t string) string { return strings.ReplaceAll(t, "{slug}", url.PathEscape(slug)) }
	return PlaybackURLs{FLV: f(p.FLV), HLS: f(p.HLS), Replay: f(p.Replay)}
}

// EmbeddedPlayback are the templates of the embedded Server, relative to
// the ShelfLive origin.
var EmbeddedPlayback = PlaybackTemplates{
	FLV:    "/media/live/{slug}.flv",
	HLS:    "/media/live/{slug}/index.m3u8",
	Replay: "/media/replay/{slug}/index.m3u8",
}

// RecordingSink is optionally implemented by the Rooms passed to NewHooks:
// it is told about every file the external server's DVR finished (on_dvr),
// for example to index it for the replay page.
type RecordingSink interface {
	RecordingReady(ctx context.Context, rec ExternalRecording) error
}

// ExternalRecording is one DVR file reported by on_dvr.
type ExternalRecording struct {
	Slug string    `json:"slug"`
	File string    `json:"file"` // path on the media server (cwd joined with file)
	At   time.Time `json:"at"`   // when the hook arrived (UTC), i.e. the file's end
}

// HooksConfig configures NewHooks.
type HooksConfig struct {
	// Playback are the external viewer URL templates.
	Playback PlaybackTemplates
	// Secret, if set, must be sent as the "secret" query parameter of every
	// hook URL configured in the media server; it stops anyone else from
	// faking stream starts and stops.
	Secret string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Hooks serves the media server callbacks under /api/v1/media/hooks/.
type Hooks struct {
	rooms Rooms
	cfg   HooksConfig
	log   *slog.Logger
	mux   *http.ServeMux

	mu     sync.Mutex
	active map[string]hookPublish // by vhost/app/stream
	bySlug map[string]string      // slug -> vhost/app/stream
	dvr    map[string][]ExternalRecording
}

type hookPublish struct {
	slug     string
	clientID string
	since    time.Time
}

// HooksPrefix is where Hooks must be mounted:
//
//	mux.Handle(video.HooksPrefix, hooks)
const HooksPrefix = "/api/v1/media/hooks/"

// NewHooks returns the SRS-compatible callback handler. rooms is the same
// interface the embedded Server uses.
func NewHooks(rooms Rooms, cfg HooksConfig) *Hooks {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hooks{
		rooms:  rooms,
		cfg:    cfg,
		log:    cfg.Logger,
		mux:    http.NewServeMux(),
		active: make(map[string]hookPublish),
		bySlug: make(map[string]string),
		dvr:    make(map[string][]ExternalRecording),
	}
	h.mux.HandleFunc("POST "+HooksPrefix+"on_publish", h.hook(h.onPublish))
	h.mux.HandleFunc("POST "+HooksPrefix+"on_unpublish", h.hook(h.onUnpublish))
	h.mux.HandleFunc("POST "+HooksPrefix+"on_dvr", h.hook(h.onDVR))
	return h
}

// ServeHTTP implements http.Handler.
func (h *Hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// PlaybackURLs returns the external viewer URLs of a room.
func (h *Hooks) PlaybackURLs(slug string) PlaybackURLs { return h.cfg.Playback.URLs(slug) }

// Live reports whether the external server currently has a publisher for
// the room (as far as this node heard through on_publish/on_unpublish).
func (h *Hooks) Live(slug string) (since time.Time, live bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k, ok := h.bySlug[slug]
	if !ok {
		return time.Time{}, false
	}
	return h.active[k].since, true
}

// Recordings lists the DVR files reported for a room since this process
// started (a RecordingSink keeps them durably).
func (h *Hooks) Recordings(slug string) []ExternalRecording {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ExternalRecording(nil), h.dvr[slug]...)
}

// srsHook is the JSON body SRS posts to every hook.
type srsHook struct {
	ServerID  string          `json:"server_id"`
	Action    string          `json:"action"`
	ClientID  json.RawMessage `json:"client_id"`
	IP        string          `json:"ip"`
	Vhost     string          `json:"vhost"`
	App       string          `json:"app"`
	TcURL     string          `json:"tcUrl"`
	Stream    string          `json:"stream"`
	Param     string          `json:"param"`
	StreamURL string          `json:"stream_url"`
	StreamID  string          `json:"stream_id"`
	Cwd       string          `json:"cwd"`
	File      string          `json:"file"`
}

// clientID returns client_id whether SRS sent it as a number or a string.
func (b *srsHook) clientID() string {
	var s string
	if json.Unmarshal(b.ClientID, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(b.ClientID))
}

func (b *srsHook) streamKeyPath() string { return b.Vhost + "/" + b.App + "/" + b.Stream }

// key finds the publish key: "?key=" in param (SRS passes the RTMP URL's
// query there), then in tcUrl, else the stream name itself.
func (b *srsHook) key() (key string, inStream bool) {
	for _, q := range []string{b.Param, queryOf(b.TcURL)} {
		v, err := url.ParseQuery(strings.TrimPrefix(q, "?"))
		if err == nil && v.Get("key") != "" {
			return v.Get("key"), false
		}
	}
	return b.Stream, true
}

func queryOf(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[i+1:]
	}
	return ""
}

// hookError refuses with a code and a message safe to show in the media
// server's log.
type hookError struct {
	code int
	msg  string
}

func (e *hookError) Error() string { return e.msg }

type hookFunc func(ctx context.Context, b *srsHook) error

func (h *Hooks) hook(fn hookFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Secret != "" &&
			subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("secret")), []byte(h.cfg.Secret)) != 1 {
			writeHook(w, http.StatusForbidden, 401, "bad hook secret")
			return
		}
		var b srsHook
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&b); err != nil {
			writeHook(w, http.StatusBadRequest, 400, "invalid hook body")
			return
		}
		err := fn(r.Context(), &b)
		var he *hookError
		switch {
		case err == nil:
			writeHook(w, http.StatusOK, 0, "OK")
		case errors.As(err, &he):
			h.log.Info("video: hook refused", "action", b.Action, "stream", b.Stream, "ip", b.IP, "reason", he.msg)
			writeHook(w, http.StatusForbidden, he.code, he.msg)
		default:
			h.log.Error("video: hook failed", "action", b.Action, "stream", b.Stream, "err", err)
			writeHook(w, http.StatusInternalServerError, 500, "Internal error.")
		}
	}
}

func writeHook(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}{code, msg})
}

func (h *Hooks) onPublish(ctx context.Context, b *srsHook) error {
	key, inStream := b.key()
	if key == "" {
		return &hookError{403, "stream key required"}
	}
	slug, err := h.rooms.RoomByStreamKey(ctx, key)
	if err != nil {
		return &hookError{403, "stream key refused"}
	}
	if !ValidSlug(slug) {
		return fmt.Errorf("%w: %q", ErrBadSlug, slug)
	}
	if !inStream && b.Stream != slug {
		// viewers play {app}/{stream} on the media server, and the
		// playback templates are built from the slug.
		return &hookError{403, fmt.Sprintf("stream name must be the room slug %q", slug)}
	}
	k := b.streamKeyPath()
	h.mu.Lock()
	// SRS itself allows one publisher per stream name, so a new on_publish
	// for the same name means the old one is gone (even if its
	// on_unpublish was lost); a second name for the same room is refused.
	if other, ok := h.bySlug[slug]; ok && other != k {
		h.mu.Unlock()
		return &hookError{409, "room already has a publisher"}
	}
	h.active[k] = hookPublish{slug: slug, clientID: b.clientID(), since: time.Now().UTC()}
	h.bySlug[slug] = k
	h.mu.Unlock()
	if err := h.rooms.StreamStarted(ctx, slug); err != nil {
		h.log.Error("video: Rooms.StreamStarted", "slug", slug, "err", err)
	}
	h.log.Info("video: external publish started", "slug", slug, "client", b.clientID(), "ip", b.IP)
	return nil
}

// resolve finds the room of an unpublish/dvr hook: from the on_publish this
// node saw, else by looking the key up again (another node saw it).
func (h *Hooks) resolve(ctx context.Context, b *srsHook) (string, bool) {
	h.mu.Lock()
	p, ok := h.active[b.streamKeyPath()]
	h.mu.Unlock()
	if ok {
		return p.slug, true
	}
	key, _ := b.key()
	slug, err := h.rooms.RoomByStreamKey(ctx, key)
	if err != nil || !ValidSlug(slug) {
		return "", false
	}
	return slug, true
}

func (h *Hooks) onUnpublish(ctx context.Context, b *srsHook) error {
	slug, ok := h.resolve(ctx, b)
	if !ok {
		// SRS ignores the answer; nothing to tell a room about
		h.log.Warn("video: unpublish for unknown stream", "stream", b.Stream)
		return nil
	}
	h.mu.Lock()
	k := b.streamKeyPath()
	if p, ok := h.active[k]; ok && p.slug == slug {
		delete(h.active, k)
		delete(h.bySlug, slug)
	}
	h.mu.Unlock()
	if err := h.rooms.StreamStopped(ctx, slug); err != nil {
		return fmt.Errorf("stream stopped: %w", err)
	}
	h.log.Info("video: external publish stopped", "slug", slug)
	return nil
}

func (h *Hooks) onDVR(ctx context.Context, b *srsHook) error {
	slug, ok := h.resolve(ctx, b)
	if !ok {
		return &hookError{404, "unknown stream"}
	}
	file := b.File
	if file != "" && !filepath.IsAbs(file) && b.Cwd != "" {
		file = filepath.Join(b.Cwd, file)
	}
	rec := ExternalRecording{Slug: slug, File: file, At: time.Now().UTC()}
	h.mu.Lock()
	h.dvr[slug] = append(h.dvr[slug], rec)
	if n := len(h.dvr[slug]); n > 1000 {
		h.dvr[slug] = h.dvr[slug][n-1000:]
	}
	h.mu.Unlock()
	if sink, ok := h.rooms.(RecordingSink); ok {
		if err := sink.RecordingReady(ctx, rec); err != nil {
			return fmt.Errorf("recording ready: %w", err)
		}
	}
	h.log.Info("video: external recording ready", "slug", slug, "file", file)
	return nil
}
