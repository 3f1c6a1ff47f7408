// Package web is the HTTP adapter: one route table for pages and the JSON
// API, middleware for auth, CSRF, limits and metrics, and problem+json errors.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/objstore"
)

//go:embed templates assets
var embedded embed.FS

// Access says who may call a route; the one place that enforces it is
// Server.authorize.
type Access int

const (
	Public   Access = iota // anyone; a session is used when present
	Customer               // a logged-in viewer (phone login)
	Staff                  // staff with Route.Perm
	AnyLogin               // a viewer or staff; the handler scopes what each sees
)

// Route is one entry of the route table.
type Route struct {
	Method  string
	Path    string
	Access  Access
	Perm    identity.Permission // for Staff routes
	API     bool                // JSON API: errors are problem+json
	Summary string
	handler func(w http.ResponseWriter, r *http.Request) error
}

// Server serves pages and the API.
type Server struct {
	App          *app.App
	Logger       *slog.Logger
	DevMode      bool
	CookieSecure bool
	DataDir      string
	Files        objstore.Store // uploads (product images); nil = DataDir/uploads
	Ready        func(ctx context.Context) error
	Media        http.Handler // video playback, mounted under /media/ when set
	MediaHooks   http.Handler // external media server callbacks under /api/v1/media/hooks/ (see docs/VIDEO.md)
	// MediaOrigins are the origins (https://cdn.example.com) of an external
	// media server's playback URLs: the pages' CSP lets the player fetch
	// and play from them. Empty: media is same-origin (embedded).
	MediaOrigins   []string
	EPCIS          http.Handler // EPCIS 2.0 REST binding, mounted under /epcis when set
	ColdChain      *ColdChain   // cold-chain API, trace pages, exports and the gateway telemetry endpoint, when set
	Registry       *prometheus.Registry
	Lifetime       context.Context // cancelled at shutdown: open WebSockets say bye
	NoRateLimits   bool            // load tests on loopback only: every client shares one IP
	WSPerIP        int             // WebSocket connections per client address (0: DefaultWSPerIP)
	ClusterKey     []byte          // shared by the nodes of a deployment: signs the caller of a forwarded request (see forward.go)
	TrustedProxies []netip.Prefix  // load balancers whose X-Forwarded-For names the client (see clientIP)
	Setup          *Setup          // first start with no merchant: /setup; nil = closed

	pages   map[string]*template.Template
	assets  *assetServer
	metrics *metrics
	limits  *limiters
	wsConns connCounter
	handler http.Handler
	csp     string // pageCSP with MediaOrigins (Handler)
}

var (
	// errMethodNotAllowed is an API route asked with a method it does not take.
	errMethodNotAllowed = apperr.New(apperr.WrongMethod, "method_not_allowed", "该接口不支持此请求方法", "This API route does not take this method; see the Allow header.")
	// errNoRoute is an API path with no route.
	errNoRoute = apperr.New(apperr.NotFound, "no_route", "接口不存在", "No such API route.")
)

// Handler builds the router once.
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	s.pages = parseTemplates()
	s.assets = newAssetServer()
	s.metrics = newMetrics(s.Registry)
	s.limits = newLimiters()
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	mux.Handle("GET /assets/", s.assets)
	mux.Handle("GET /uploads/", http.StripPrefix("/uploads/", s.uploadsHandler()))
	if s.Media != nil {
		mux.Handle("/media/", s.Media)
	}
	if s.MediaHooks != nil {
		mux.Handle("/api/v1/media/hooks/", s.MediaHooks)
	}
	if s.EPCIS != nil {
		mux.Handle("/epcis/", s.EPCIS)
	}
	if s.ColdChain != nil {
		mux.Handle("POST /api/v1/telemetry", s.ColdChain.TelemetryHandler()) // device tokens, not sessions: outside the route wrapper
	}
	if s.App.Household != nil {
		mux.Handle("POST /api/v1/household/readings", s.HouseholdReadingsHandler()) // device tokens, not sessions
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if allow := allowedMethods(mux, r); allow != "" {
				w.Header().Set("Allow", allow)
				writeProblem(w, r, errMethodNotAllowed)
				return
			}
			writeProblem(w, r, errNoRoute)
			return
		}
		s.renderError(w, r, apperr.ErrNotFound)
	})
	s.csp = withMediaOrigins(pageCSP, s.MediaOrigins)
	s.handler = s.recoverer(s.securityHeaders(mux))
	return s.handler
}

// allowedMethods lists the methods the mux routes r's path with (only this
// catch-all matched r's own method), for a 405's Allow header; "" = none.
func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

type ctxKey int

const principalKey ctxKey = 1

// PrincipalFrom returns the authenticated caller, or nil.
func PrincipalFrom(ctx context.Context) *identity.Principal {
	p, _ := ctx.Value(principalKey).(*identity.Principal)
	return p
}

// Cookie names: staff and viewer sessions are separate so a host testing
// their own room as a viewer never mixes the two.
const (
	staffCookie  = "sl_staff"
	viewerCookie = "sl_viewer"
)

// wrap applies auth, CSRF, limits and error rendering to one route.
func (s *Server) wrap(rt Route) http.Handler {
	return s.metrics.instrument(rt.Method+" "+rt.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.API {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		p, err := s.authorize(r, rt)
		if err == nil && p != nil {
			r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
		}
		if err == nil {
			err = s.checkCSRF(r, p)
		}
		if err == nil {
			err = rt.handler(w, r)
		}
		if err != nil {
			s.fail(w, r, rt, err)
		}
	}))
}

// errCustomersOnly refuses staff on a customer's route.
var errCustomersOnly = apperr.New(apperr.Forbidden, "customers_only", "仅限顾客账号", "Only customer accounts can do this.")

// authorize resolves the caller for a route and enforces its Access.
func (s *Server) authorize(r *http.Request, rt Route) (*identity.Principal, error) {
	var p *identity.Principal
	var err error
	if rt.API { // only API calls are ever forwarded
		if p, err = s.forwardedPrincipal(r); err != nil {
			return nil, err
		}
	}
	if p == nil {
		if p, err = s.authenticate(r, rt); err != nil {
			return nil, err
		}
	}
	switch rt.Access {
	case Public:
		return p, nil
	case Customer:
		if p == nil {
			return nil, apperr.ErrLoginRequired
		}
		if p.Kind != identity.KindCustomer {
			return nil, errCustomersOnly
		}
		return p, nil
	case Staff:
		if p == nil {
			return nil, apperr.ErrUnauthorized
		}
		if !p.IsStaff() || !identity.Can(p.Role, rt.Perm) {
			return nil, apperr.ErrForbidden
		}
		return p, nil
	case AnyLogin:
		if p == nil {
			return nil, apperr.ErrUnauthorized
		}
		return p, nil
	}
	return nil, apperr.ErrForbidden
}

// authenticate resolves the session cookie or bearer token of a request.
func (s *Server) authenticate(r *http.Request, rt Route) (*identity.Principal, error) {
	var token string
	bearer := false
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token, bearer = strings.TrimPrefix(h, "Bearer "), true
	} else {
		name := viewerCookie
		if rt.Access == Staff {
			name = staffCookie
		}
		// Staff consoles read routes open to viewers and staff alike (and
		// public ones, e.g. a room's state with its stream key for the
		// studio) with the staff session when they say so.
		if rt.API && (rt.Access == AnyLogin || rt.Access == Public) && r.Header.Get("X-ShelfLive-As") == "staff" {
			name = staffCookie
		}
		if c, err := r.Cookie(name); err == nil {
			token = c.Value
		}
	}
	var p *identity.Principal
	if token != "" {
		var err error
		p, err = s.App.Identity.Authenticate(r.Context(), token)
		if err != nil && (bearer || rt.Access != Public) {
			return nil, err
		}
		if p != nil && bearer && p.Kind != identity.KindCustomer {
			p.CSRF = "" // bearer callers are not browsers: no CSRF
		}
		if p != nil && bearer {
			p.Bearer = true
		}
	}
	return p, nil
}

var errCrossOrigin = apperr.New(apperr.Forbidden, "cross_origin", "不允许跨站请求", "Cross-origin request refused.")

// sameOrigin reports whether the request's Origin, if it sends one, is this
// site: the same host, and the same scheme when the site is known to be
// served over HTTPS (TLS here, X-Forwarded-Proto: https, or
// SHELFLIVE_COOKIE_SECURE): a page on http://shop.example may not post to
// https://shop.example. Behind a TLS proxy that says nothing, the scheme is
// unknown and either is accepted. "null" comes from sandboxed or opaque
// contexts: never our own pages.
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme, host, ok := strings.Cut(origin, "://")
	if !ok || host != r.Host || (scheme != "http" && scheme != "https") {
		return false
	}
	https := s.CookieSecure || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
	return !https || scheme == "https"
}

// errCSRF refuses a form post without a valid CSRF token.
var errCSRF = apperr.New(apperr.Forbidden, "csrf", "页面已过期，请刷新后重试", "The page is out of date; reload and try again.")

// checkCSRF requires the session's CSRF token on every state-changing
// request that a browser authenticated with a cookie. Bearer callers and
// anonymous requests carry no ambient authority, so they need none.
func (s *Server) checkCSRF(r *http.Request, p *identity.Principal) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if !s.sameOrigin(r) {
		return errCrossOrigin
	}
	if p == nil || p.Bearer {
		return nil
	}
	if got := r.Header.Get("X-CSRF-Token"); got == "" || got != p.CSRF {
		return errCSRF
	}
	return nil
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, rt Route, err error) {
	e := apperr.As(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		e = errBodyTooLarge
	}
	if e.Kind == apperr.Internal {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	// A lockout says how long it lasts (identity.Throttled).
	var ra interface{ RetryAfter() time.Duration }
	if e.Kind == apperr.TooMany && errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.RetryAfter().Seconds()))))
	}
	// Some refusals carry what the caller needs to fix them (a compliance
	// review, a comment's findings) as a problem extension member.
	var ext interface{ ProblemMember() (string, any) }
	if rt.API && errors.As(err, &ext) {
		key, val := ext.ProblemMember()
		writeProblemWith(w, r, e, key, val)
		return
	}
	if rt.API {
		writeProblem(w, r, e)
		return
	}
	if e.Kind == apperr.Unauthorized && rt.Access == Staff {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if e.Kind == apperr.Unauthorized && rt.Access == Customer {
		s.renderBuyerLogin(w, r)
		return
	}
	s.renderError(w, r, e)
}

// StatusOf maps an error kind to its HTTP status.
func StatusOf(k apperr.Kind) int {
	switch k {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Gone:
		return http.StatusGone
	case apperr.WrongMethod:
		return http.StatusMethodNotAllowed
	case apperr.Unavailable:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document with ShelfLive's stable code.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Instance string `json:"instance,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, e *apperr.Error) {
	status := StatusOf(e.Kind)
	detail := e.Message
	if langOf(r) == "en" {
		detail = e.English
	}
	if e.Kind == apperr.TooMany && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Problem{Type: "https://shelflive.dev/problems/" + e.Code, Title: e.English, Status: status, Detail: detail, Code: e.Code, Field: e.Field, Instance: r.URL.Path})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// errInvalidType refuses a JSON field of the wrong type.
var errInvalidType = apperr.InvalidField("", "invalid_type", "字段类型错误", "Wrong type for a field.")

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// wrong types and trailing data, with an error that names the field.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return errUnsupportedMedia
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errInvalidType.At(te.Field).With("字段类型错误："+te.Field, "Wrong type for field "+te.Field+".")
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return apperr.ErrUnknownField.At(f).With("未知字段："+f, "Unknown field "+f+".")
		}
		if errors.Is(err, io.EOF) {
			return errEmptyBody
		}
		return errMalformedJSON
	}
	if dec.More() {
		return errMalformedJSON.With("JSON 格式错误", "Trailing data after the JSON object.")
	}
	return nil
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}

// clientIP is the address per-IP limits, the login lockout and logs use:
// the TCP peer, or — when the peer is one of TrustedProxies — the nearest
// address in X-Forwarded-For that is not a trusted proxy itself (walking
// from the right: entries left of it were written by the client and can be
// anything).
func (s *Server) clientIP(r *http.Request) string {
	peer := remoteHost(r)
	if len(s.TrustedProxies) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(addr) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr.String() // garbage: keep the last address we could vouch for
			}
			addr = a.Unmap()
			if !s.trusted(addr) {
				return addr.String()
			}
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeProblem(w, r, apperr.As(fmt.Errorf("panic: %v", v)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// pageCSP is every page's policy: no inline script or style (but the one
// early-stream script, allowed by its hash: earlyStreamScript), no framing
// (only the embeddable room card relaxes frame-ancestors, web/embed.go).
var pageCSP = "default-src 'self'; script-src 'self' " + earlyStreamHash + "; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// withMediaOrigins adds an external media server's origins to the sources
// a page may play media from and fetch (FLV by fetch, HLS by XHR).
func withMediaOrigins(csp string, origins []string) string {
	if len(origins) == 0 {
		return csp
	}
	o := " " + strings.Join(origins, " ")
	csp = strings.Replace(csp, "media-src 'self' blob:", "media-src 'self' blob:"+o, 1)
	return strings.Replace(csp, "connect-src 'self' ws: wss:", "connect-src 'self' ws: wss:"+o, 1)
}

// securityHeaders sets a strict CSP (no inline script or style) and friends.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, name, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.CookieSecure || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https", MaxAge: int(maxAge.Seconds())})
}

func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "zh" {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "en" || c.Value == "zh") {
		return c.Value
	}
	if strings.HasPrefix(r.Header.Get("Accept-Language"), "en") {
		return "en"
	}
	return "zh"
}
