package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/objstore"
)

type metrics struct {
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
	orders   *prometheus.CounterVec
	payments *prometheus.CounterVec
	forwards *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shelflive_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route", "code"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shelflive_http_inflight_requests", Help: "Requests being served."}),
		orders:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shelflive_orders_created_total", Help: "Orders created (kind: regular, flash)."}, []string{"kind"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shelflive_payment_callbacks_total", Help: "Payment callbacks by result (paid, refused)."}, []string{"result"}),
		forwards: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shelflive_leader_forwards_total",
			Help: "Requests this node relayed to the leader, by result (answered: the leader answered; failed: unreachable, answered busy_retry)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.inflight, m.orders, m.payments, m.forwards)
	}
	return m
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.inflight.Dec()
			code := sw.code
			if code == 0 {
				code = 200
			}
			m.duration.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// limiters are token buckets per key (IP or user), in memory: each node
// limits what it serves.
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	last    time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiters() *limiters { return &limiters{buckets: map[string]*bucket{}} }

// allow takes one token from key's bucket (rate per second, burst size) and
// returns how long to wait when empty.
func (l *limiters) allow(key string, rate, burst float64) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) > time.Minute && len(l.buckets) > 50_000 {
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Minute {
				delete(l.buckets, k)
			}
		}
		l.last = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// limit returns a 429 error with Retry-After when key is over its rate.
func (s *Server) limit(w http.ResponseWriter, key string, rate, burst float64) error {
	if s.NoRateLimits {
		return nil
	}
	ok, wait := s.limits.allow(key, rate, burst)
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return apperr.New(apperr.TooMany, "rate_limited", "操作太频繁，请稍后再试", "Too many requests; slow down.")
}

// assetServer serves embedded assets with content hashes in their URLs so
// browsers can cache them forever, gzip-compressed for browsers that take it
// (each file compressed once, on its first request).
type assetServer struct {
	files  fs.FS
	hashes map[string]string // name -> short hash
	gz     map[string]*gzAsset
}

// gzAsset is one compressible asset's gzip form, made once.
type gzAsset struct {
	once sync.Once
	body []byte // nil when gzip would not be smaller
}

// compressible are the text assets worth compressing (images are already).
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".css", ".svg", ".json", ".txt":
		return true
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip (or *) unless given q=0.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		enc = strings.ToLower(strings.TrimSpace(enc))
		if enc != "gzip" && enc != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return !(q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000")
	}
	return false
}

// gzipped returns the gzip form of a compressible asset, or nil.
func (a *assetServer) gzipped(name string) []byte {
	g := a.gz[name]
	if g == nil {
		return nil
	}
	g.once.Do(func() {
		raw, err := fs.ReadFile(a.files, name)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw)
		if zw.Close() == nil && buf.Len() < len(raw) {
			g.body = buf.Bytes()
		}
	})
	return g.body
}

func newAssetServer() *assetServer {
	sub, _ := fs.Sub(embedded, "assets")
	a := &assetServer{files: sub, hashes: map[string]string{}, gz: map[string]*gzAsset{}}
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(sub, p)
		h := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(h[:4])
		if compressible(p) {
			a.gz[p] = &gzAsset{}
		}
		return nil
	})
	return a
}

// URL returns /assets/<name>?v=<hash>.
func (a *assetServer) URL(name string) string {
	return "/assets/" + name + "?v=" + a.hashes[name]
}

func (a *assetServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/assets/")
	if _, ok := a.hashes[name]; !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if compressible(name) {
		w.Header().Add("Vary", "Accept-Encoding")
		if body := a.gzipped(name); body != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			ct := mime.TypeByExtension(path.Ext(name))
			if ct == "" {
				ct = "application/octet-stream"
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("ETag", `"`+a.hashes[name]+`-gz"`)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
			return
		}
		w.Header().Set("ETag", `"`+a.hashes[name]+`"`)
	}
	http.ServeFileFS(w, r, a.files, name)
}

// uploadsPrefix is where product images live in the object store; with the
// local store that is DataDir/uploads, as before object storage.
const uploadsPrefix = "uploads/"

// files is the object store for uploads: Server.Files, or the data dir.
func (s *Server) files() objstore.Store {
	if s.Files == nil {
		return objstore.NewLocal(s.DataDir)
	}
	return s.Files
}

// uploadName reports whether name can be an upload's name: one or two
// segments ("ab12.png", "demo/milk.svg") of letters, digits, "-", "_" and
// dots, none starting with a dot, at most 128 bytes.
func uploadName(name string) bool {
	if len(name) > 128 {
		return false
	}
	segs := strings.Split(name, "/")
	if len(segs) > 2 {
		return false
	}
	for _, seg := range segs {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
		}
	}
	return true
}

// uploadsHandler serves uploaded product images from the object store, so
// every node serves every image. Ranges and conditional requests work
// (both stores' readers seek).
func (s *Server) uploadsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if !uploadName(name) {
			http.NotFound(w, r) // "..", "a/b", "%00" and other bytes no upload's name has
			return
		}
		rc, info, err := s.files().Get(r.Context(), uploadsPrefix+name)
		if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrInvalidKey) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.Logger.Error("uploads: object store", "name", name, "err", err)
			http.Error(w, "Internal error.", http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Content-Disposition", "inline")
		ctype := info.ContentType
		if ctype == "" || ctype == "application/octet-stream" {
			ctype = mime.TypeByExtension(path.Ext(name))
		}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		if info.ETag != "" {
			h.Set("ETag", info.ETag)
		}
		objstore.OneRange(r)
		if rs, ok := rc.(io.ReadSeeker); ok {
			http.ServeContent(w, r, "", info.ModTime, rs)
			return
		}
		h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		if r.Method != http.MethodHead {
			io.Copy(w, rc)
		}
	})
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// render executes a page template into a buffer first, so a template error
// becomes a clean error page, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) error {
	t, ok := s.pages[name]
	if !ok {
		panic("web: no template " + name)
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Lang"] = langOf(r)
	if l := r.URL.Query().Get("lang"); l == "en" || l == "zh" {
		// the choice sticks for the next pages
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
	data["Asset"] = s.assets.URL
	data["Principal"] = PrincipalFrom(r.Context())
	data["Dev"] = s.DevMode
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, e *apperr.Error) {
	msg := e.Message
	if langOf(r) == "en" {
		msg = e.English
	}
	if err := s.render(w, r, StatusOf(e.Kind), "error.html", map[string]any{"Status": StatusOf(e.Kind), "Message": msg, "Code": e.Code}); err != nil {
		http.Error(w, msg, StatusOf(e.Kind))
	}
}

// parseTemplates parses every page with the shared layout once, at start.
func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"yuan": catalog.FormatFen,
		"t": func(lang, zh, en string) string {
			if lang == "en" {
				return en
			}
			return zh
		},
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v) // escapes <, > and & so a data block cannot close its <script>
			return template.JS(b), err
		},
		"bi":          pickLang,
		"when":        when,
		"statusClass": statusClass,
		"initial":     initial,
		"shanghai":    func(t time.Time) string { return t.In(cn.Shanghai).Format("2006-01-02 15:04") },
		"pct":         func(x float64) float64 { return 100 * x },
	}
	pages := map[string]*template.Template{}
	entries, err := fs.ReadDir(embedded, "templates")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if e.Name() == "layout.html" {
			continue
		}
		t := template.Must(template.New(e.Name()).Funcs(funcs).ParseFS(embedded, "templates/layout.html", "templates/"+e.Name()))
		pages[e.Name()] = t
	}
	return pages
}

// Limited wraps a handler mounted outside the route table (EPCIS capture,
// telemetry ingest) with the same per-key token buckets and 429 answer.
func (s *Server) Limited(h http.Handler, name string, rate, burst float64, key func(*http.Request) string, only func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if only == nil || only(r) {
			if err := s.limit(w, name+":"+key(r), rate, burst); err != nil {
				writeProblem(w, r, apperr.As(err))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// ClientIP is the client address used for per-IP limits (see clientIP).
func (s *Server) ClientIP(r *http.Request) string { return s.clientIP(r) }
