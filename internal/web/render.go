package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/order"
)

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
		// km is a distance in metres as buyers read it (2.1 km, 850 m).
		"km": func(m int64) string {
			if m >= 1000 {
				return strconv.FormatFloat(float64(m)/1000, 'f', 1, 64) + " km"
			}
			return strconv.FormatInt(m, 10) + " m"
		},
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
		"earlyStream": func() template.JS { return template.JS(earlyStreamScript) },
		"bi":          pickLang,
		"when":        when,
		"statusClass": statusClass,
		"initial":     initial,
		"shanghai":    func(t time.Time) string { return t.In(cn.Shanghai).Format("2006-01-02 15:04") },
		"pct":         func(x float64) float64 { return 100 * x },
		"cnday":       func(t time.Time) string { return t.In(cn.Shanghai).Format("2006-01-02") },
		"minus":       func(a, b int64) int64 { return a - b },
		"statusLabel": func(s string) string { return order.Status(s).Label() },
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
