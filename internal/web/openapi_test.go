package web_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cocreate"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/freshness"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/moderation"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/presale"
	"github.com/shelflive/shelflive/internal/promotions"
	"github.com/shelflive/shelflive/internal/stores"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/trials"
	"github.com/shelflive/shelflive/internal/web"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// outsideTable are API endpoints mounted beside the route table because they
// authenticate something other than a session, with their access label.
var outsideTable = map[string]string{
	"post /api/v1/telemetry":          "device", // sensors with their own tokens (ColdChain.TelemetryHandler)
	"post /api/v1/household/readings": "device", // linked fridges with their own tokens (HouseholdReadingsHandler)
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// accessString is how the document's x-shelflive-access names a route's Access.
func accessString(rt web.Route) string {
	switch rt.Access {
	case web.Public:
		return "public"
	case web.Customer:
		return "customer"
	case web.AnyLogin:
		return "any-login"
	case web.Staff:
		return "staff:" + string(rt.Perm)
	}
	return "?"
}

// openapiPath maps a Go ServeMux pattern to an OpenAPI path template:
// {name} stays, {name...} becomes {name}.
func openapiPath(p string) string {
	return strings.ReplaceAll(p, "...}", "}")
}

// TestOpenAPIDocument fetches the document a running node serves and checks
// it against the route table in both directions, then checks that it is
// internally consistent and that its schemas carry the Go structs' JSON
// field names.
func TestOpenAPIDocument(t *testing.T) {
	m := testkit.StartNode(t, "")
	r := send(t, nil, m.URL(), "GET", "/api/openapi.json", nil, "", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == "" || info["version"] == "" {
		t.Fatal("info.title and info.version are required")
	}
	paths, _ := doc["paths"].(map[string]any)
	components, _ := doc["components"].(map[string]any)

	// Routes ⇄ operations. The cold-chain routes count from now on, whether
	// or not they have joined Server.Routes() yet.
	routes := map[string]web.Route{}
	table := m.Server.Routes()
	for _, rt := range (&web.ColdChain{}).Routes() {
		if !slices.ContainsFunc(table, func(x web.Route) bool { return x.Method == rt.Method && x.Path == rt.Path }) {
			table = append(table, rt)
		}
	}
	for _, rt := range table {
		if strings.Contains(rt.Path, "{$}") {
			if rt.API {
				t.Errorf("%s %s: the exact-match root is a page, not an API route", rt.Method, rt.Path)
			}
			continue
		}
		if !rt.API {
			continue
		}
		if !strings.HasPrefix(rt.Path, "/api/") && !slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, rt.Path) {
			t.Errorf("API route %s outside /api/", rt.Path)
		}
		routes[strings.ToLower(rt.Method)+" "+openapiPath(rt.Path)] = rt
	}
	ops := map[string]map[string]any{}
	for p, item := range paths {
		for _, method := range httpMethods {
			if o, ok := item.(map[string]any)[method].(map[string]any); ok {
				ops[method+" "+p] = o
			}
		}
	}
	for key, rt := range routes {
		if _, ok := ops[key]; !ok {
			t.Errorf("route %s %s (%q) is not documented in internal/web/openapi/*.json", rt.Method, rt.Path, rt.Summary)
		}
	}
	for key, o := range ops {
		if access, ok := outsideTable[key]; ok {
			if o["x-shelflive-access"] != access {
				t.Errorf("%s: x-shelflive-access %v, want %s", key, o["x-shelflive-access"], access)
			}
			continue
		}
		if _, ok := routes[key]; !ok {
			t.Errorf("documented operation %s is not in Routes()", key)
		}
	}

	// Each operation: identity, summary, tags, access, parameters, responses.
	tags := map[string]bool{}
	for _, tg := range doc["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	schemes := components["securitySchemes"].(map[string]any)
	opIDs := map[string]string{}
	codeRE := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		o := ops[key]
		rt, ok := routes[key]
		if !ok {
			continue
		}
		id, _ := o["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		} else if prev, dup := opIDs[id]; dup {
			t.Errorf("%s: operationId %s also used by %s", key, id, prev)
		}
		opIDs[id] = key
		if o["summary"] != rt.Summary {
			t.Errorf("%s: summary %q, route table says %q", key, o["summary"], rt.Summary)
		}
		tl, _ := o["tags"].([]any)
		if len(tl) == 0 {
			t.Errorf("%s: no tags", key)
		}
		for _, tg := range tl {
			if !tags[tg.(string)] {
				t.Errorf("%s: tag %v not declared", key, tg)
			}
		}
		if got, want := o["x-shelflive-access"], accessString(rt); got != want {
			t.Errorf("%s: x-shelflive-access %v, route table says %s", key, got, want)
		}
		sec, hasSec := o["security"].([]any)
		if !hasSec {
			t.Errorf("%s: no security requirement", key)
		}
		for _, req := range sec {
			rq := req.(map[string]any)
			if len(rq) == 0 && rt.Access != web.Public {
				t.Errorf("%s: anonymous access documented for a %s route", key, accessString(rt))
			}
			for name := range rq {
				if schemes[name] == nil {
					t.Errorf("%s: unknown security scheme %s", key, name)
				}
			}
		}
		params := resolvedParams(t, doc, o)
		for _, name := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(strings.SplitN(key, " ", 2)[1], -1) {
			p, ok := params["path:"+name[1]]
			if !ok || p["required"] != true {
				t.Errorf("%s: path parameter %s not documented as required", key, name[1])
			}
		}
		resps, _ := o["responses"].(map[string]any)
		hasSuccess := false
		for st, resp := range resps {
			if st[0] == '2' || st == "101" {
				hasSuccess = true
			}
			if st[0] == '4' && st != "426" {
				ref, _ := resp.(map[string]any)["$ref"].(string)
				if !strings.HasPrefix(ref, "#/components/responses/E") {
					t.Errorf("%s: error response %s is not a problem+json response", key, st)
				}
			}
		}
		if !hasSuccess {
			t.Errorf("%s: no success response", key)
		}
		codes, _ := o["x-error-codes"].(map[string]any)
		for st, list := range codes {
			if _, ok := resps[st]; !ok {
				t.Errorf("%s: x-error-codes lists status %s without a response", key, st)
			}
			for _, c := range list.([]any) {
				if !codeRE.MatchString(c.(string)) {
					t.Errorf("%s: error code %q is not snake_case", key, c)
				}
			}
		}
		if rt.Access != web.Public {
			if !slices.ContainsFunc(codes["401"].([]any), func(c any) bool { return c == "unauthorized" || c == "login_required" }) {
				t.Errorf("%s: a %s route must document 401", key, accessString(rt))
			}
		}
	}
	if _, ok := resolvedParams(t, doc, ops["post /api/v1/orders"])["header:Idempotency-Key"]; !ok {
		t.Error("POST /api/v1/orders does not document the Idempotency-Key header")
	}

	t.Run("RefsResolve", func(t *testing.T) {
		n := 0
		walk(doc, "#", func(at, ref string) {
			n++
			if _, err := pointer(doc, ref); err != nil {
				t.Errorf("%s: $ref %s: %v", at, ref, err)
			}
		})
		if n < 100 {
			t.Fatalf("only %d $refs: the walk is broken", n)
		}
	})

	t.Run("SchemasMatchGoStructs", func(t *testing.T) {
		schemas := components["schemas"].(map[string]any)
		for name, typ := range map[string]struct {
			v     any
			extra []string // fields the handler adds to the struct
		}{
			"Problem": {web.Problem{}, nil}, "Product": {catalog.Product{}, nil}, "SKU": {catalog.SKU{}, nil},
			"Store": {stores.Store{}, nil}, "Lot": {inventory.Lot{}, nil}, "Level": {inventory.Level{}, nil},
			"Order": {order.Order{}, nil}, "GuideSales": {order.GuideSales{}, nil}, "Line": {order.Line{}, nil}, "OrderRequest": {order.Request{}, nil}, "OrderItem": {order.Item{}, nil},
			"PaymentIntent": {payment.Intent{}, nil}, "PaymentNotification": {payment.Notification{}, nil},
			"Presale": {presale.Presale{}, nil}, "PresaleCommitment": {presale.Commitment{}, nil},
			"PaymentAction": {payment.Action{}, nil}, "Refund": {payment.Refund{}, nil}, "CredentialCheck": {payment.CheckResult{}, nil}, "PayRequest": {app.PayRequest{}, nil},
			"Room": {live.Room{}, nil}, "Comment": {live.Comment{}, nil}, "Pin": {live.Pin{}, nil},
			"Staff": {identity.Staff{}, nil}, "AuditEntry": {identity.AuditEntry{}, nil}, "Customer": {identity.Customer{}, nil},
			"Location": {coldchain.Location{}, nil}, "Device": {coldchain.Device{}, nil}, "Alarm": {coldchain.Alarm{}, nil}, "AlarmLot": {coldchain.AlarmLot{}, nil},
			"ClearanceRule": {freshness.Rule{}, nil}, "ClearanceStep": {freshness.Step{}, nil}, "ClearanceCandidate": {freshness.Candidate{}, nil},
			"ClearanceRequest": {app.ClearanceRequest{}, nil}, "ClearanceSession": {freshness.Session{}, nil}, "ClearanceItem": {freshness.Item{}, nil}, "WasteSavedRow": {freshness.SavedRow{}, nil},
			"InboxMessage": {notify.Message{}, nil},
			"Restriction":  {moderation.Restriction{}, nil}, "Report": {moderation.Report{}, nil}, "MuteRequest": {app.MuteRequest{}, nil}, "ModerationWord": {moderation.Word{}, nil},
			"Coupon": {coupons.Coupon{}, nil}, "CouponInput": {app.CouponInput{}, nil}, "CouponClaim": {coupons.Claim{}, nil}, "CouponScope": {coupons.Scope{}, nil},
			"Draw": {draws.Draw{}, nil}, "DrawInput": {app.DrawInput{}, nil}, "DrawEntrant": {draws.Entrant{}, nil}, "DrawWinner": {draws.Winner{}, nil}, "DrawResult": {draws.Result{}, nil},
			"Trial": {trials.Trial{}, nil}, "TrialInput": {app.TrialInput{}, nil}, "TrialQuestion": {trials.Question{}, nil}, "TrialApplication": {trials.Application{}, nil},
			"TrialFeedback": {trials.Feedback{}, nil}, "TrialResults": {trials.Results{}, nil}, "TrialDistribution": {trials.Distribution{}, nil}, "MyTrial": {app.MyTrial{}, nil}, "TrialApply": {app.ApplyInput{}, nil},
			"CouponOption": {coupons.Option{}, nil}, "CouponQuote": {app.Quote{}, nil}, "CouponReportRow": {coupons.ReportRow{}, nil},
			"MemberProgram": {members.Program{}, nil}, "MemberTier": {members.Tier{}, nil}, "MembershipCard": {members.Card{}, nil}, "PointsEntry": {members.Entry{}, nil},
			"MembershipView": {app.MembershipView{}, nil}, "Segment": {members.Segment{}, nil}, "MemberGate": {members.Gate{}, nil}, "MemberOffer": {members.Offer{}, nil}, "PointsOffer": {app.PointsOffer{}, nil},
			"Poll": {promotions.Poll{}, nil}, "PollOption": {promotions.PollOption{}, nil}, "PollInput": {app.PollInput{}, nil},
			"Draft": {cocreate.Draft{}, nil}, "DraftOptionGroup": {cocreate.OptionGroup{}, nil}, "DraftOption": {cocreate.Option{}, nil}, "DraftInput": {app.DraftInput{}, nil},
			"WebhookEndpoint": {webhooks.Endpoint{}, nil}, "WebhookDelivery": {webhooks.Delivery{}, nil},
			"Limits": {coldchain.Limits{}, nil}, "LotReport": {coldchain.LotReport{}, nil}, "PublicTrace": {web.PublicTrace{}, nil}, "PublicStep": {web.PublicStep{}, nil},
			// stream_key and ingest_url are added for the room's staff by
			// roomView; playback and clips come with the video wiring.
			"RoomState": {app.RoomState{}, []string{"stream_key", "ingest_url", "playback", "clips", "flash_sales"}},
		} {
			s, ok := schemas[name].(map[string]any)
			if !ok {
				t.Errorf("schema %s missing", name)
				continue
			}
			var doc []string
			for p := range s["properties"].(map[string]any) {
				doc = append(doc, p)
			}
			checkFields(t, name, doc, reflect.TypeOf(typ.v), typ.extra)
		}
		// Nested types reached through RoomState (video, flash sales), when present.
		rs := reflect.TypeOf(app.RoomState{})
		for i := range rs.NumField() {
			f := rs.Field(i)
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			name := map[string]string{"playback": "Playback", "clips": "Clip", "flash_sales": "FlashSale"}[strings.Split(f.Tag.Get("json"), ",")[0]]
			if name == "" {
				continue
			}
			s, ok := schemas[name].(map[string]any)
			if !ok {
				t.Errorf("schema %s missing", name)
				continue
			}
			var doc []string
			for p := range s["properties"].(map[string]any) {
				doc = append(doc, p)
			}
			checkFields(t, name, doc, ft, nil)
		}
	})
}

// resolvedParams returns an operation's parameters keyed "in:name", with
// $refs followed.
func resolvedParams(t *testing.T, doc map[string]any, o map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := o["parameters"].([]any)
	for _, p := range list {
		pm := p.(map[string]any)
		if ref, ok := pm["$ref"].(string); ok {
			v, err := pointer(doc, ref)
			if err != nil {
				t.Errorf("parameter %s: %v", ref, err)
				continue
			}
			pm = v.(map[string]any)
		}
		out[fmt.Sprint(pm["in"], ":", pm["name"])] = pm
	}
	return out
}

// walk calls f for every $ref in v.
func walk(v any, at string, f func(at, ref string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "$ref" {
				if s, ok := c.(string); ok {
					f(at, s)
				}
				continue
			}
			walk(c, at+"/"+k, f)
		}
	case []any:
		for i, c := range x {
			walk(c, fmt.Sprintf("%s/%d", at, i), f)
		}
	}
}

// pointer resolves a local JSON pointer (#/a/b) in doc.
func pointer(doc any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("not a local reference")
	}
	cur := doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("no %s", part)
		}
	}
	return cur, nil
}

// checkFields compares a schema's properties with a Go type's JSON fields:
// every field the server sends is documented, and the document describes
// no field the server does not send (beyond extra, added by handlers).
func checkFields(t *testing.T, name string, doc []string, typ reflect.Type, extra []string) {
	t.Helper()
	goFields := jsonFields(typ)
	for _, f := range goFields {
		if !slices.Contains(doc, f) {
			t.Errorf("schema %s lacks field %s of Go type %s", name, f, typ)
		}
	}
	for _, f := range doc {
		if !slices.Contains(goFields, f) && !slices.Contains(extra, f) {
			t.Errorf("schema %s documents field %s that Go type %s does not have", name, f, typ)
		}
	}
}

// jsonFields lists the JSON names encoding/json uses for t's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...) // embedded: its fields are promoted
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// notAPICodeDirs are the packages under internal/ whose codes never reach
// /api/v1: every other package is scanned, so a new domain's codes are
// checked without editing this test. Load tools, test helpers and the demo
// seed answer no request; the EPCIS adapter answers on its own binding
// (/epcis), and so do the epcis_ codes of the trace package.
var notAPICodeDirs = map[string]bool{"bench": true, "testkit": true, "demo": true, "epcishttp": true}

// notAPICodes are codes a scanned package declares that no operation
// returns, each with the reason.
var notAPICodes = map[string]string{
	// coldchain reads "no EPCIS events for this lot" as an empty history
	// (report.go, export.go); the public pages answer lot_not_found.
	"trace_lot_not_found": "coldchain turns it into an empty history",
}

// TestErrorCodesDeclaredOnce keeps one declaration per code: a code is an
// apperr.New or apperr.InvalidField value in the package that owns it, and
// every other place returns that variable or a copy made with At, With or
// Wrap, so errors.Is(err, pkg.ErrX) finds every error with that code.
func TestErrorCodesDeclaredOnce(t *testing.T) {
	for c, at := range sourceCodeSites(t) {
		if len(at) > 1 {
			t.Errorf("error code %q is declared %d times: %s", c, len(at), strings.Join(at, ", "))
		}
	}
}

// apiCodeDirs walks internal/ for the packages behind /api/v1.
func apiCodeDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == ".." {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator)))
		if notAPICodeDirs[strings.Split(rel, "/")[0]] || d.Name() == "testdata" || d.Name() == "migrations" {
			return filepath.SkipDir
		}
		if goFiles, _ := filepath.Glob(filepath.Join(path, "*.go")); len(goFiles) > 0 {
			dirs = append(dirs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// sourceCodes collects the stable error codes in the source: the code
// argument of apperr.New and apperr.InvalidField, Code: fields of
// apperr.Error literals, and the realtime adapter's problem(w, status, code, …).
// It returns each code with every place that declares it.
func sourceCodes(t *testing.T) map[string]string {
	t.Helper()
	codes := map[string]string{}
	for c, at := range sourceCodeSites(t) {
		if !strings.HasPrefix(c, "epcis_") && notAPICodes[c] == "" {
			codes[c] = at[0]
		}
	}
	return codes
}

func sourceCodeSites(t *testing.T) map[string][]string {
	t.Helper()
	codes := map[string][]string{}
	fset := token.NewFileSet()
	apiSourceFiles(t, fset, func(f *ast.File) {
		lit := func(e ast.Expr) {
			if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
				if c, err := strconv.Unquote(b.Value); err == nil {
					codes[c] = append(codes[c], fset.Position(b.Pos()).String())
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := x.Fun.(type) {
				case *ast.SelectorExpr:
					if id, ok := fn.X.(*ast.Ident); ok && id.Name == "apperr" {
						name = fn.Sel.Name
					}
				case *ast.Ident:
					if f.Name.Name == "apperr" || (f.Name.Name == "ws" && fn.Name == "problem") {
						name = fn.Name
					}
				}
				switch name {
				case "New", "InvalidField":
					if len(x.Args) >= 2 {
						lit(x.Args[1])
					}
				case "problem":
					if len(x.Args) >= 3 {
						lit(x.Args[2])
					}
				}
			case *ast.CompositeLit:
				typ := ""
				switch tt := x.Type.(type) { // apperr.Error only: other packages' Error types carry vendors' codes
				case *ast.SelectorExpr:
					if id, ok := tt.X.(*ast.Ident); ok && id.Name == "apperr" {
						typ = tt.Sel.Name
					}
				case *ast.Ident:
					if f.Name.Name == "apperr" {
						typ = tt.Name
					}
				}
				if typ != "Error" {
					return true
				}
				for _, el := range x.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
							lit(kv.Value)
						}
					}
				}
			}
			return true
		})
	})
	return codes
}

// TestOpenAPIErrorCodes compares the error codes the document lists with the
// codes in the source, both ways: a new code must be documented on the
// operations that return it, and the document lists no code that the server
// cannot produce.
func TestOpenAPIErrorCodes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(web.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, list := range doc["x-error-codes-global"].(map[string]any) {
		for _, c := range list.([]any) {
			documented[c.(string)] = true
		}
	}
	for _, item := range doc["paths"].(map[string]any) {
		for _, o := range item.(map[string]any) {
			codes, _ := o.(map[string]any)["x-error-codes"].(map[string]any)
			for _, list := range codes {
				for _, c := range list.([]any) {
					documented[c.(string)] = true
				}
			}
		}
	}
	src := sourceCodes(t)
	if len(src) < 50 {
		t.Fatalf("found only %d codes in the source: the scanner is broken", len(src))
	}
	for c, at := range src {
		if !documented[c] {
			t.Errorf("error code %q (%s) is not listed in any operation's x-error-codes", c, at)
		}
	}
	for c := range documented {
		if _, ok := src[c]; !ok {
			t.Errorf("documented error code %q does not occur in the source", c)
		}
	}
}
