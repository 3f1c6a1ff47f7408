// Package epcishttp serves the GS1 EPCIS 2.0 REST binding under /epcis:
// capture of EPCIS documents (JSON / JSON-LD), capture job status, event
// queries with the standard query parameters, and single events by ID. It
// validates with trace/epcis and stores through a trace.EventStore.
package epcishttp

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

// Authorizer maps a request to the merchant (tenant) it acts for. The lead
// wires it to session cookies / bearer API tokens: canCapture is true for
// tokens with the "quality" role (or above). An error is answered 401
// (apperr.Unauthorized, the default) or 403 (apperr.Forbidden).
type Authorizer interface {
	Authorize(r *http.Request) (merchantID int64, canCapture bool, err error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(r *http.Request) (int64, bool, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(r *http.Request) (int64, bool, error) { return f(r) }

// Handler is the /epcis REST adapter.
type Handler struct {
	store  trace.EventStore
	auth   Authorizer
	mux    *http.ServeMux
	Logger *slog.Logger
	Now    func() time.Time
	// captures bounds how many capture documents are read and parsed at
	// once: parsing holds ~8× the document (a 16 MB one ~120 MB), so four at
	// once reached 650 MB. Others wait for a slot (CaptureWait), then get
	// 503 with Retry-After.
	captures chan struct{}
}

// MaxConcurrentCaptures is how many capture documents one node parses at
// once (read when the handler is made).
var MaxConcurrentCaptures = 1

// CaptureWait is how long a capture waits for a free slot.
var CaptureWait = 2 * time.Minute

// New returns the handler for /epcis/… routes; mount it at "/epcis/".
func New(store trace.EventStore, auth Authorizer) http.Handler {
	h := &Handler{store: store, auth: auth, mux: http.NewServeMux(), Logger: slog.Default(), Now: time.Now, captures: make(chan struct{}, MaxConcurrentCaptures)}
	h.mux.HandleFunc("POST /epcis/capture", h.handleCapture)
	h.mux.HandleFunc("GET /epcis/capture/{id}", h.handleCaptureJob)
	h.mux.HandleFunc("GET /epcis/events", h.handleEvents)
	h.mux.HandleFunc("GET /epcis/events/{eventID...}", h.handleEvent)
	return h
}

// ServeHTTP adds the EPCIS version headers of the REST binding.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("GS1-EPCIS-Version", "2.0.0")
	hd.Set("GS1-CBV-Version", "2.0.0")
	hd.Set("GS1-EPCIS-Capture-Limit", strconv.Itoa(trace.CaptureLimit))
	hd.Set("GS1-EPCIS-Capture-File-Size-Limit", strconv.Itoa(epcis.MaxDocumentBytes))
	hd.Set("GS1-Capture-Error-Behaviour", "rollback")
	h.mux.ServeHTTP(w, r)
}

// problem is an RFC 9457 problem document with ShelfLive's stable code.
type problem struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Detail  string `json:"detail,omitempty"`
	Code    string `json:"code"`
	Errors  any    `json:"errors,omitempty"`
	TitleEN string `json:"title_en,omitempty"`
}

// english reports whether the client prefers English (Chinese is the default).
func english(r *http.Request) bool {
	al := strings.ToLower(r.Header.Get("Accept-Language"))
	return strings.HasPrefix(al, "en")
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, code, zh, en, detail string, errs any) {
	p := problem{Type: typ, Title: zh, Status: status, Detail: detail, Code: code, Errors: errs, TitleEN: en}
	if english(r) {
		p.Title, p.TitleEN = en, ""
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

var kindStatus = map[apperr.Kind]int{
	apperr.Invalid: http.StatusBadRequest, apperr.NotFound: http.StatusNotFound, apperr.Conflict: http.StatusConflict,
	apperr.Unauthorized: http.StatusUnauthorized, apperr.Forbidden: http.StatusForbidden, apperr.TooMany: http.StatusTooManyRequests,
	apperr.Gone: http.StatusGone,
}

// writeError answers a domain/storage error; internal errors are logged and
// shown as "Internal error." only.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	status, ok := kindStatus[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
		h.Logger.Error("epcis", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	typ := "epcisException:ImplementationException"
	switch status {
	case http.StatusNotFound:
		typ = "epcisException:NoSuchResourceException"
	case http.StatusUnauthorized, http.StatusForbidden:
		typ = "epcisException:SecurityException"
	case http.StatusBadRequest:
		typ = "epcisException:ValidationException"
	}
	writeProblem(w, r, status, typ, e.Code, e.Message, e.English, "", nil)
}

// authorize answers 401/403 itself and reports ok=false when it did.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, capture bool) (int64, bool) {
	m, can, err := h.auth.Authorize(r)
	if err != nil {
		e := apperr.As(err)
		if e.Kind != apperr.Forbidden {
			e = apperr.ErrUnauthorized
		}
		h.writeError(w, r, e)
		return 0, false
	}
	if capture && !can {
		h.writeError(w, r, apperr.New(apperr.Forbidden, "epcis_capture_forbidden", "需要质量管理权限才能采集EPCIS事件", "Capturing EPCIS events needs the quality role."))
		return 0, false
	}
	return m, true
}

func (h *Handler) handleCapture(w http.ResponseWriter, r *http.Request) {
	merchantID, ok := h.authorize(w, r, true)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/ld+json") {
			writeProblem(w, r, http.StatusUnsupportedMediaType, "epcisException:ValidationException", "epcis_unsupported_media_type",
				"仅支持 JSON / JSON-LD 格式的EPCIS文档", "Send the EPCIS document as application/json or application/ld+json.", "", nil)
			return
		}
	}
	// The slot is taken before the body is read: waiting requests hold
	// only their unread sockets.
	wait := time.NewTimer(CaptureWait)
	select {
	case h.captures <- struct{}{}:
		wait.Stop()
		defer func() { <-h.captures }()
	case <-wait.C:
		w.Header().Set("Retry-After", "30")
		writeProblem(w, r, http.StatusServiceUnavailable, "epcisException:CaptureLimitExceededException", "epcis_capture_busy",
			"EPCIS采集繁忙，请稍后重试", "Other captures are being processed; retry shortly.", "", nil)
		return
	case <-r.Context().Done():
		wait.Stop()
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, epcis.MaxDocumentBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "epcisException:CaptureLimitExceededException", "epcis_document_too_large",
				"EPCIS文档过大", "The EPCIS document is too large.", "limit "+strconv.Itoa(epcis.MaxDocumentBytes)+" bytes", nil)
			return
		}
		writeProblem(w, r, http.StatusBadRequest, "epcisException:ValidationException", "epcis_invalid_document",
			"无法读取EPCIS文档", "Could not read the EPCIS document.", "", nil)
		return
	}
	doc, err := epcis.ParseDocument(body)
	if err != nil {
		var ide *epcis.InvalidDocumentError
		if errors.As(err, &ide) {
			detail := "The document does not conform to the EPCIS 2.0 JSON schema; no event was stored."
			if len(ide.Problems) > 0 && ide.Problems[0].Event >= 0 {
				detail = "Event " + strconv.Itoa(ide.Problems[0].Event) + " is invalid; no event of this document was stored."
			}
			writeProblem(w, r, http.StatusBadRequest, "epcisException:ValidationException", "epcis_invalid_document",
				"EPCIS文档无效，未保存任何事件", "Invalid EPCIS document; nothing was stored.", detail, ide.Problems)
			return
		}
		if errors.Is(err, trace.ErrTooManyEvents) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "epcisException:CaptureLimitExceededException", "epcis_capture_limit",
				"单次采集的事件过多", "Too many events in one capture.", "at most "+strconv.Itoa(trace.CaptureLimit)+" events per document", nil)
			return
		}
		h.writeError(w, r, err)
		return
	}
	job, err := h.store.Capture(r.Context(), merchantID, doc.Events)
	if err != nil {
		if job.ID != "" && apperr.As(err).Kind == apperr.Internal {
			w.Header().Set("Location", "/epcis/capture/"+url.PathEscape(job.ID))
		}
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/epcis/capture/"+url.PathEscape(job.ID))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(jobJSON(job))
}

// captureJobDoc is the REST binding's capture job document.
type captureJobDoc struct {
	CaptureID             string   `json:"captureID"`
	CreatedAt             string   `json:"createdAt"`
	FinishedAt            string   `json:"finishedAt,omitempty"`
	Running               bool     `json:"running"`
	Success               bool     `json:"success"`
	CaptureErrorBehaviour string   `json:"captureErrorBehaviour"`
	Errors                []string `json:"errors"`
	EventCount            int      `json:"eventCount"`
	Stored                int      `json:"storedEvents"`
	Duplicates            int      `json:"duplicateEvents"`
	Declared              int      `json:"declaredErroneous"`
}

func jobJSON(j trace.CaptureJob) captureJobDoc {
	d := captureJobDoc{CaptureID: j.ID, CreatedAt: j.CreatedAt.UTC().Format(time.RFC3339Nano), Running: j.Running, Success: j.Success,
		CaptureErrorBehaviour: "rollback", Errors: j.Errors, EventCount: j.EventCount, Stored: j.Stored, Duplicates: j.Duplicates, Declared: j.Declared}
	if d.Errors == nil {
		d.Errors = []string{}
	}
	if j.FinishedAt != nil {
		d.FinishedAt = j.FinishedAt.UTC().Format(time.RFC3339Nano)
	}
	return d
}

func (h *Handler) handleCaptureJob(w http.ResponseWriter, r *http.Request) {
	merchantID, ok := h.authorize(w, r, false)
	if !ok {
		return
	}
	job, err := h.store.CaptureJob(r.Context(), merchantID, r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(jobJSON(job))
}

func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request) {
	merchantID, ok := h.authorize(w, r, false)
	if !ok {
		return
	}
	q := r.URL.Query()
	f, err := epcis.ParseQuery(q)
	if err != nil {
		var qe *epcis.QueryError
		if errors.As(err, &qe) {
			writeProblem(w, r, http.StatusBadRequest, "epcisException:QueryParameterException", "epcis_invalid_query",
				"查询参数无效", "Invalid query parameter.", qe.Param+": "+qe.Message,
				[]map[string]string{{"parameter": qe.Param, "message": qe.Message}})
			return
		}
		h.writeError(w, r, err)
		return
	}
	page, err := h.store.QueryEvents(r.Context(), merchantID, f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if page.Next != nil {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("nextPageToken", epcis.EncodePageToken(*page.Next, q))
		next.Set("perPage", strconv.Itoa(f.PerPage))
		w.Header().Set("Link", `<`+r.URL.Path+`?`+next.Encode()+`>; rel="next"`)
	}
	h.writeQueryDocument(w, r, page.Events)
}

func (h *Handler) handleEvent(w http.ResponseWriter, r *http.Request) {
	merchantID, ok := h.authorize(w, r, false)
	if !ok {
		return
	}
	id := r.PathValue("eventID")
	ev, err := h.store.EventByID(r.Context(), merchantID, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeQueryDocument(w, r, []trace.Event{ev})
}

// writeQueryDocument answers an EPCISQueryDocument. The inline @context
// entries of the capturing documents (extension namespaces) are merged; an
// event whose prefixes clash with an earlier event's keeps its own
// @context inside the event object.
func (h *Handler) writeQueryDocument(w http.ResponseWriter, r *http.Request, events []trace.Event) {
	merged := map[string]any{}
	list := make([]json.RawMessage, 0, len(events))
	for _, ev := range events {
		body := ev.JSON
		if len(ev.Context) > 0 {
			var entries []map[string]any
			if json.Unmarshal(ev.Context, &entries) == nil {
				own := map[string]any{}
				clash := false
				for _, e := range entries {
					for k, v := range e {
						own[k] = v
						if old, ok := merged[k]; ok && !jsonEqual(old, v) {
							clash = true
						}
					}
				}
				if clash {
					ctx, _ := json.Marshal([]any{epcis.ContextURL, own})
					body = spliceField(body, "@context", ctx)
				} else {
					for k, v := range own {
						merged[k] = v
					}
				}
			}
		}
		list = append(list, body)
	}
	ctx := []any{epcis.ContextURL}
	if len(merged) > 0 {
		ctx = append(ctx, merged)
	}
	doc := map[string]any{
		"@context":      ctx,
		"type":          "EPCISQueryDocument",
		"schemaVersion": "2.0",
		"creationDate":  h.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"epcisBody": map[string]any{"queryResults": map[string]any{
			"queryName":   "SimpleEventQuery",
			"resultsBody": map[string]any{"eventList": list},
		}},
	}
	// JSON-LD unless the client asked for plain JSON only.
	ct := "application/ld+json"
	if a := r.Header.Get("Accept"); strings.Contains(a, "application/json") && !strings.Contains(a, "ld+json") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	_ = json.NewEncoder(w).Encode(doc)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// spliceField puts "key": value first in a JSON object.
func spliceField(obj json.RawMessage, key string, value []byte) json.RawMessage {
	s := strings.TrimSpace(string(obj))
	if !strings.HasPrefix(s, "{") {
		return obj
	}
	rest := strings.TrimSpace(s[1:])
	k, _ := json.Marshal(key)
	sep := ","
	if strings.HasPrefix(rest, "}") {
		sep = ""
	}
	return json.RawMessage("{" + string(k) + ":" + string(value) + sep + rest)
}
