package web_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/testkit"
)

// result is one HTTP exchange as the tests see it.
type result struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is the RFC 9457 document the API answers errors with.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Instance string `json:"instance"`
}

// noRedirect sees redirects instead of following them: a staff page that
// sends an anonymous caller to /login must be seen as that 303.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// send makes one request. body may be nil, a string or []byte (sent as is),
// or anything else (sent as JSON). hdr adds headers; "Authorization" may be
// given as a bare token via bearer.
func send(tb testing.TB, hc *http.Client, base, method, path string, body any, bearer string, hdr map[string]string) result {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if hc == nil {
		hc = noRedirect
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return result{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// decode unmarshals a JSON answer or fails the test.
// want fails the test unless the call answered status.
func (r result) want(tb testing.TB, status int) result {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

func (r result) decode(tb testing.TB, out any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, out); err != nil {
		tb.Fatalf("decode %q: %v", r.Body, err)
	}
}

// problem checks that the answer is problem+json with the given status and
// returns it.
func (r result) problem(tb testing.TB, status int) problem {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		tb.Fatalf("content type %q, want application/problem+json", ct)
	}
	var p problem
	r.decode(tb, &p)
	if p.Status != status || p.Code == "" || p.Title == "" || p.Detail == "" || !strings.HasSuffix(p.Type, "/"+p.Code) {
		tb.Fatalf("incomplete problem document: %+v", p)
	}
	return p
}

// wantProblem asserts status and stable code.
func (r result) wantProblem(tb testing.TB, status int, code string) problem {
	tb.Helper()
	p := r.problem(tb, status)
	if p.Code != code {
		tb.Fatalf("code %q, want %q (%s)", p.Code, code, r.Body)
	}
	return p
}

// session is what the login endpoints return.
type session struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Merchant int64  `json:"merchant_id"`
	CSRF     string `json:"csrf"`
	Token    string `json:"token"`
}

// staffLogin logs a staff member in through the API like the login page does.
func staffLogin(tb testing.TB, base, login, password string) session {
	tb.Helper()
	r := send(tb, nil, base, "POST", "/api/v1/auth/login", map[string]string{"login": login, "password": password}, "", nil)
	if r.Status != 200 {
		tb.Fatalf("login %s: %d %s", login, r.Status, r.Body)
	}
	var s session
	r.decode(tb, &s)
	if s.Token == "" || s.CSRF == "" {
		tb.Fatalf("login %s: no token/csrf in %s", login, r.Body)
	}
	return s
}

// viewerLogin logs a customer of merchant in by phone (dev mode shows the code).
func viewerLogin(tb testing.TB, base, merchant, phone string) session {
	tb.Helper()
	r := send(tb, nil, base, "POST", "/api/v1/auth/otp", map[string]string{"merchant": merchant, "phone": phone}, "", nil)
	if r.Status != 200 {
		tb.Fatalf("otp %s: %d %s", phone, r.Status, r.Body)
	}
	var otp struct {
		DevCode string `json:"dev_code"`
	}
	r.decode(tb, &otp)
	r = send(tb, nil, base, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": merchant, "phone": phone, "code": otp.DevCode}, "", nil)
	if r.Status != 200 {
		tb.Fatalf("otp verify %s: %d %s", phone, r.Status, r.Body)
	}
	var s session
	r.decode(tb, &s)
	return s
}

// signedCallback posts a payment callback signed like the dev provider signs
// it, with a fresh nonce.
func signedCallback(tb testing.TB, m *node.Main, bearer, body string, at time.Time) result {
	tb.Helper()
	return callback(tb, m, m.App.Provider.Secret, bearer, body, strconv.FormatInt(at.Unix(), 10), newNonce())
}

// callback posts a payment callback signed with secret.
func callback(tb testing.TB, m *node.Main, secret []byte, bearer, body, ts, nonce string) result {
	tb.Helper()
	signer := &payment.Dev{Secret: secret}
	return send(tb, nil, m.URL(), "POST", "/api/v1/payments/dev/callback", body, bearer, map[string]string{
		"X-Dev-Timestamp": ts, "X-Dev-Nonce": nonce, "X-Dev-Signature": signer.Sign(ts, nonce, []byte(body)),
	})
}

func newNonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// demoShop is what the behaviour tests buy from: two SKUs of the demo
// merchant and the store that holds their stock.
type demoShop struct {
	m          *node.Main
	base       string
	storeID    int64
	sku1, sku2 int64
}

func newShop(t testing.TB, extra ...string) *demoShop {
	t.Helper()
	m := testkit.StartNode(t, "", extra...)
	s := &demoShop{m: m, base: m.URL()}
	var stores struct {
		Stores []struct {
			ID int64 `json:"id"`
		} `json:"stores"`
	}
	send(t, nil, s.base, "GET", "/api/v1/stores", nil, testkit.OwnerToken, nil).decode(t, &stores)
	var products struct {
		Products []struct {
			SKUs []struct {
				ID        int64 `json:"id"`
				Available int64 `json:"available"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, testkit.OwnerToken, nil).decode(t, &products)
	if len(stores.Stores) == 0 || len(products.Products) < 2 {
		t.Fatal("demo data missing")
	}
	s.storeID = stores.Stores[0].ID
	s.sku1, s.sku2 = products.Products[0].SKUs[0].ID, products.Products[1].SKUs[0].ID
	return s
}

// stock returns the stock levels of the shop's SKUs as the API reports them;
// two equal snapshots mean nothing was reserved, released or sold between.
func (s *demoShop) stock(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, sku := range []int64{s.sku1, s.sku2} {
		r := send(t, nil, s.base, "GET", "/api/v1/stock?sku_id="+strconv.FormatInt(sku, 10), nil, testkit.OwnerToken, nil)
		if r.Status != 200 {
			t.Fatalf("stock: %d %s", r.Status, r.Body)
		}
		b.Write(r.Body)
	}
	return b.String()
}

// reserved sums reserved units of one SKU over all stores and lots.
func (s *demoShop) reserved(t *testing.T, sku int64) int64 {
	t.Helper()
	var out struct {
		Levels []struct {
			Reserved int64 `json:"reserved"`
		} `json:"levels"`
	}
	send(t, nil, s.base, "GET", "/api/v1/stock?sku_id="+strconv.FormatInt(sku, 10), nil, testkit.OwnerToken, nil).decode(t, &out)
	var n int64
	for _, l := range out.Levels {
		n += l.Reserved
	}
	return n
}

// orderCount is how many orders the merchant has.
func (s *demoShop) orderCount(t *testing.T) int {
	t.Helper()
	var out struct {
		Orders []json.RawMessage `json:"orders"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders", nil, testkit.OwnerToken, nil).decode(t, &out)
	return len(out.Orders)
}

func (s *demoShop) pickup(items ...[2]int64) map[string]any {
	var list []any
	for _, it := range items {
		list = append(list, map[string]any{"sku_id": it[0], "quantity": it[1]})
	}
	return map[string]any{"items": list, "fulfilment": "pickup", "store_id": s.storeID}
}

type orderView struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	TotalFen    int64  `json:"total_fen"`
	PickupCode  string `json:"pickup_code"`
	PaidAt      *time.Time
	Number      string `json:"number"`
	RefundedFen int64  `json:"refunded_fen"`
}

// TestAPIErrors sends hostile and wrong requests to the API: each answers
// problem+json with a stable code, and none of them writes anything.
func TestAPIErrors(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000011")
	owner := testkit.OwnerToken

	cases := []struct {
		name         string
		token        string
		method, path string
		body         any
		hdr          map[string]string
		status       int
		code, field  string
	}{
		{"MalformedJSON", buyer.Token, "POST", "/api/v1/orders", `{"items":[`, nil, 400, "malformed_json", ""},
		{"TrailingData", buyer.Token, "POST", "/api/v1/orders", `{"items":[]}{"items":[]}`, nil, 400, "malformed_json", ""},
		{"EmptyBody", buyer.Token, "POST", "/api/v1/orders", "", nil, 400, "empty_body", ""},
		{"NotJSON", buyer.Token, "POST", "/api/v1/orders", `items=1`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "unsupported_media_type", ""},
		{"UnknownField", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "pickup", "store_id": s.storeID, "discount_code": "FREE"}, nil, 400, "unknown_field", "discount_code"},
		{"WrongType", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": "one", "quantity": 1}}, "fulfilment": "pickup", "store_id": s.storeID}, nil, 400, "invalid_type", "items.sku_id"},
		{"WrongTypeQuantity", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1.5}}, "fulfilment": "pickup", "store_id": s.storeID}, nil, 400, "invalid_type", "items.quantity"},
		{"NegativeQuantity", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, -1}), nil, 400, "invalid_quantity", "items[0].quantity"},
		{"ZeroQuantity", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 0}), nil, 400, "invalid_quantity", "items[0].quantity"},
		{"HugeQuantity", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 100}), nil, 400, "invalid_quantity", "items[0].quantity"},
		{"NoItems", buyer.Token, "POST", "/api/v1/orders", s.pickup(), nil, 400, "invalid_items", "items"},
		{"DuplicateItem", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}, [2]int64{s.sku1, 1}), nil, 400, "duplicate_item", "items[1].sku_id"},
		{"UnknownSKU", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{999999, 1}), nil, 400, "unknown_sku", "items"},
		{"UnknownStore", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "pickup", "store_id": 999999}, nil, 400, "unknown_store", "store_id"},
		{"NoFulfilment", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}}, nil, 400, "invalid_fulfilment", "fulfilment"},
		{"DeliveryWithoutAddress", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "delivery"}, nil, 400, "address_required", "address"},
		{"OutOfStock", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 99}), nil, 409, "out_of_stock", ""},
		// The first line fits, the second does not: the whole order fails and the first line's reservation never happens.
		{"OutOfStockSecondLine", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}, [2]int64{s.sku2, 99}), nil, 409, "out_of_stock", ""},
		{"IdempotencyKeyTooLong", buyer.Token, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), map[string]string{"Idempotency-Key": strings.Repeat("k", 101)}, 400, "invalid_idempotency_key", "Idempotency-Key"},
		{"AnonymousOrder", "", "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), nil, 401, "login_required", ""},
		{"StaffOrder", owner, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), nil, 403, "customers_only", ""},
		{"BadToken", "not-a-token", "GET", "/api/v1/auth/me", nil, nil, 401, "unauthorized", ""},
		{"NoRoute", "", "GET", "/api/v1/nothing-here", nil, nil, 404, "no_route", ""},
		{"WrongMethod", "", "DELETE", "/api/v1/orders", nil, nil, 405, "method_not_allowed", ""},
		{"UnknownRoom", "", "GET", "/api/v1/rooms/no-such-room", nil, nil, 404, "not_found", ""},
		{"NegativeStock", owner, "PUT", "/api/v1/stock", map[string]any{"store_id": s.storeID, "lot_id": 1, "on_hand": -5}, nil, 400, "invalid_quantity", "on_hand"},
		{"BadQueryParameter", owner, "GET", "/api/v1/stock?sku_id=abc", nil, nil, 400, "invalid_parameter", "sku_id"},
		{"ZeroLikes", "", "POST", "/api/v1/rooms/demo/likes", map[string]any{"count": 0}, nil, 400, "invalid_count", "count"},
		{"CommentWithLink", buyer.Token, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": "便宜货看 www.example.com"}, nil, 400, "comment_link", "text"},
		{"CommentTooLong", buyer.Token, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": strings.Repeat("草", 101)}, nil, 400, "comment_too_long", "text"},
		{"BadCredentials", "", "POST", "/api/v1/auth/login", map[string]any{"login": "owner", "password": "wrong-password"}, nil, 401, "bad_credentials", ""},
		{"InvalidPhone", "", "POST", "/api/v1/auth/otp/verify", map[string]any{"merchant": "demo", "phone": "12345", "code": "000000"}, nil, 400, "invalid_phone", "phone"},
		{"UnknownMerchant", "", "POST", "/api/v1/auth/otp/verify", map[string]any{"merchant": "nope", "phone": "13900000011", "code": "000000"}, nil, 400, "unknown_merchant", "merchant"},
		{"WrongOTP", "", "POST", "/api/v1/auth/otp/verify", map[string]any{"merchant": "demo", "phone": "13900000011", "code": "000000"}, nil, 401, "invalid_otp", ""},
		{"InvalidRole", owner, "POST", "/api/v1/staff", map[string]any{"username": "x1", "name": "x", "role": "root", "password": "long-enough"}, nil, 400, "invalid_role", "role"},
		{"WeakPassword", owner, "POST", "/api/v1/staff", map[string]any{"username": "x1", "name": "x", "role": "host", "password": "short"}, nil, 400, "weak_password", "password"},
		{"BadSlug", owner, "POST", "/api/v1/rooms", map[string]any{"slug": "Bad Slug", "title": "t"}, nil, 400, "invalid_slug", "slug"},
		{"SlugTaken", owner, "POST", "/api/v1/rooms", map[string]any{"slug": "demo", "title": "t"}, nil, 400, "slug_taken", "slug"},
		{"BadPickupCode", owner, "POST", "/api/v1/pickups/verify", map[string]any{"code": "12ab"}, nil, 404, "invalid_pickup_code", ""},
		{"OrderOfNobody", buyer.Token, "GET", "/api/v1/orders/999999", nil, nil, 404, "not_found", ""},
	}
	before, orders := s.stock(t), s.orderCount(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, nil, s.base, tc.method, tc.path, tc.body, tc.token, tc.hdr)
			p := r.wantProblem(t, tc.status, tc.code)
			if p.Field != tc.field {
				t.Errorf("field %q, want %q", p.Field, tc.field)
			}
			if p.Instance != strings.SplitN(tc.path, "?", 2)[0] {
				t.Errorf("instance %q", p.Instance)
			}
			if after := s.stock(t); after != before {
				t.Fatalf("stock changed:\nbefore %s\nafter  %s", before, after)
			}
			if n := s.orderCount(t); n != orders {
				t.Fatalf("orders %d → %d", orders, n)
			}
		})
	}

	t.Run("EnglishDetail", func(t *testing.T) {
		r := send(t, nil, s.base, "POST", "/api/v1/orders", `{`, buyer.Token, map[string]string{"Accept-Language": "en-US"})
		if p := r.wantProblem(t, 400, "malformed_json"); p.Detail != "Malformed JSON." {
			t.Fatalf("detail %q", p.Detail)
		}
		r = send(t, nil, s.base, "POST", "/api/v1/orders", `{`, buyer.Token, nil)
		if p := r.wantProblem(t, 400, "malformed_json"); p.Detail != "JSON 格式错误" {
			t.Fatalf("zh detail %q", p.Detail)
		}
	})
}

// TestIdempotentOrder retries order creation with one Idempotency-Key: the
// same order comes back, stock is reserved once, and the key cannot be
// reused for a different request.
func TestIdempotentOrder(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000021")
	key := map[string]string{"Idempotency-Key": "idem-7f3a"}
	body := s.pickup([2]int64{s.sku1, 2})
	r0 := s.reserved(t, s.sku1)

	r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, key)
	if r.Status != 201 {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	var first orderView
	r.decode(t, &first)
	r = send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, key)
	if r.Status != 200 {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	var again orderView
	r.decode(t, &again)
	if again.ID != first.ID || again.TotalFen != first.TotalFen || again.PickupCode != first.PickupCode {
		t.Fatalf("retry returned %+v, first %+v", again, first)
	}
	if got := s.reserved(t, s.sku1); got != r0+2 {
		t.Fatalf("reserved %d → %d, want +2 once", r0, got)
	}

	t.Run("SameKeyOtherBody", func(t *testing.T) {
		before, n := s.stock(t), s.orderCount(t)
		r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 3}), buyer.Token, key)
		r.wantProblem(t, 409, "idempotency_key_reused")
		if s.stock(t) != before || s.orderCount(t) != n {
			t.Fatal("a refused retry wrote something")
		}
	})

	t.Run("KeysArePerBuyer", func(t *testing.T) {
		other := viewerLogin(t, s.base, "demo", "13900000022")
		r := send(t, nil, s.base, "POST", "/api/v1/orders", body, other.Token, key)
		if r.Status != 201 {
			t.Fatalf("other buyer, same key: %d %s", r.Status, r.Body)
		}
		var o orderView
		r.decode(t, &o)
		if o.ID == first.ID {
			t.Fatal("another buyer's key returned the first buyer's order")
		}
	})

	t.Run("ConcurrentRetries", func(t *testing.T) {
		before := s.reserved(t, s.sku2)
		hdr := map[string]string{"Idempotency-Key": "idem-burst"}
		const n = 8
		type res struct {
			status int
			id     int64
		}
		out := make(chan res, n)
		for range n {
			go func() {
				r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku2, 1}), buyer.Token, hdr)
				var o orderView
				_ = json.Unmarshal(r.Body, &o)
				out <- res{r.Status, o.ID}
			}()
		}
		created, ids := 0, map[int64]bool{}
		for range n {
			r := <-out
			switch r.status {
			case 201:
				created++
			case 200:
			default:
				t.Fatalf("status %d", r.status)
			}
			ids[r.id] = true
		}
		if created != 1 || len(ids) != 1 {
			t.Fatalf("%d created, %d distinct orders; want exactly one", created, len(ids))
		}
		if got := s.reserved(t, s.sku2); got != before+1 {
			t.Fatalf("reserved %d → %d, want +1", before, got)
		}
	})
}

// orderStatus reads an order as its buyer.
func orderStatus(t *testing.T, base, token string, id int64) orderView {
	t.Helper()
	var o orderView
	r := send(t, nil, base, "GET", "/api/v1/orders/"+strconv.FormatInt(id, 10), nil, token, nil)
	if r.Status != 200 {
		t.Fatalf("order %d: %d %s", id, r.Status, r.Body)
	}
	r.decode(t, &o)
	return o
}

// placeAndStartPaying creates a pickup order and its payment intent.
func placeAndStartPaying(t *testing.T, s *demoShop, token string, qty int64) (orderView, string, int64) {
	t.Helper()
	r := send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, qty}), token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	r = send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", nil, token, nil)
	if r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	var in struct {
		Intent    string `json:"intent"`
		AmountFen int64  `json:"amount_fen"`
		PayURL    string `json:"pay_url"`
	}
	r.decode(t, &in)
	if in.Intent == "" || in.AmountFen != o.TotalFen || in.PayURL == "" {
		t.Fatalf("intent %+v for order %+v", in, o)
	}
	return o, in.Intent, in.AmountFen
}

// TestReservationExpiry lets an unpaid order's reservation run out: the
// stock comes back, and neither paying nor a late provider callback revives
// the order or takes the stock again.
func TestReservationExpiry(t *testing.T) {
	t.Parallel() // mostly waiting (timeouts, expiry, the browser): overlap it with the rest
	s := newShop(t, "-reserve-for", "1s")
	buyer := viewerLogin(t, s.base, "demo", "13900000031")
	r0 := s.reserved(t, s.sku1)
	o, intent, amount := placeAndStartPaying(t, s, buyer.Token, 2)
	if got := s.reserved(t, s.sku1); got != r0+2 {
		t.Fatalf("reserved %d → %d, want +2", r0, got)
	}
	testkit.WaitFor(t, "reservation to expire", 20*time.Second, func() bool {
		return orderStatus(t, s.base, buyer.Token, o.ID).Status == "expired"
	})
	if got := s.reserved(t, s.sku1); got != r0 {
		t.Fatalf("reserved after expiry %d, want %d (released)", got, r0)
	}
	before := s.stock(t)

	t.Run("PayAgain", func(t *testing.T) {
		r := send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", nil, buyer.Token, nil)
		p := r.problem(t, r.Status)
		if !(r.Status == 410 && p.Code == "reservation_expired") && !(r.Status == 409 && p.Code == "not_payable") {
			t.Fatalf("pay after expiry: %d %s", r.Status, p.Code)
		}
	})
	t.Run("LateCallback", func(t *testing.T) {
		body := `{"intent":"` + intent + `","status":"paid","amount_fen":` + strconv.FormatInt(amount, 10) + `,"provider_ref":"late"}`
		// The money came after all: kept and refunded at once (the dev
		// provider moves none), audited; the order stays expired.
		signedCallback(t, s.m, "", body, time.Now()).want(t, 200)
		if n := auditCount(t, s, "payment.auto_refund"); n != 1 {
			t.Fatalf("%d payment.auto_refund audit entries, want 1", n)
		}
		if got := orderStatus(t, s.base, buyer.Token, o.ID); got.Status != "expired" || got.RefundedFen != amount || got.PaidAt != nil {
			t.Fatalf("the expired order after the late payment: %+v", got)
		}
	})
	t.Run("LateConfirm", func(t *testing.T) {
		r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil)
		p := r.problem(t, r.Status)
		if r.Status/100 != 4 {
			t.Fatalf("confirm after expiry: %d %s", r.Status, p.Code)
		}
	})
	if got := orderStatus(t, s.base, buyer.Token, o.ID).Status; got != "expired" {
		t.Fatalf("order status %s after late payment attempts", got)
	}
	if after := s.stock(t); after != before {
		t.Fatalf("stock changed after expiry:\n%s\n%s", before, after)
	}
}

// TestPaymentCallback sends forged, stale, mismatched and replayed provider
// callbacks: each is refused with its code and changes nothing; the one good
// callback pays the order exactly once.
func TestPaymentCallback(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000041")
	o, intent, amount := placeAndStartPaying(t, s, buyer.Token, 1)
	body := func(amount int64) string {
		return `{"intent":"` + intent + `","status":"paid","amount_fen":` + strconv.FormatInt(amount, 10) + `,"provider_ref":"cb-1"}`
	}
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	secret := s.m.App.Provider.Secret
	unchanged := func(t *testing.T) {
		t.Helper()
		if st := orderStatus(t, s.base, buyer.Token, o.ID).Status; st != "pending_payment" {
			t.Fatalf("order became %s", st)
		}
		var in struct {
			Status string `json:"status"`
		}
		send(t, nil, s.base, "GET", "/api/v1/payments/dev/"+intent, nil, "", nil).decode(t, &in)
		if in.Status != "pending" {
			t.Fatalf("intent became %s", in.Status)
		}
	}
	stock := s.stock(t)

	refused := []struct {
		name   string
		r      func(t *testing.T) result
		status int
		code   string
	}{
		{"ForgedSignature", func(t *testing.T) result {
			return callback(t, s.m, []byte("not-the-provider-secret-000000000000"), "", body(amount), ts, newNonce())
		}, 401, "bad_signature"},
		{"NoSignature", func(t *testing.T) result {
			return send(t, nil, s.base, "POST", "/api/v1/payments/dev/callback", body(amount), "", map[string]string{"X-Dev-Timestamp": ts, "X-Dev-Nonce": newNonce()})
		}, 401, "bad_signature"},
		{"TamperedBody", func(t *testing.T) result {
			nonce := newNonce()
			sig := (&payment.Dev{Secret: secret}).Sign(ts, nonce, []byte(body(amount)))
			return send(t, nil, s.base, "POST", "/api/v1/payments/dev/callback", body(1), "", map[string]string{"X-Dev-Timestamp": ts, "X-Dev-Nonce": nonce, "X-Dev-Signature": sig})
		}, 401, "bad_signature"},
		{"StaleTimestamp", func(t *testing.T) result { return signedCallback(t, s.m, "", body(amount), now.Add(-10*time.Minute)) }, 401, "stale_callback"},
		{"FutureTimestamp", func(t *testing.T) result { return signedCallback(t, s.m, "", body(amount), now.Add(10*time.Minute)) }, 401, "stale_callback"},
		{"AmountMismatch", func(t *testing.T) result { return signedCallback(t, s.m, "", body(amount-1), now) }, 409, "amount_mismatch"},
		{"UnknownIntent", func(t *testing.T) result {
			return signedCallback(t, s.m, "", `{"intent":"pi_ffffffffffffffffffffffff","status":"paid","amount_fen":1,"provider_ref":"x"}`, now)
		}, 404, "not_found"},
		{"MalformedCallback", func(t *testing.T) result {
			return signedCallback(t, s.m, "", `{"intent":"`+intent+`","status":"paid","amount_fen":1,"extra":true}`, now)
		}, 400, "invalid_callback"},
		{"NotPaidStatus", func(t *testing.T) result {
			return signedCallback(t, s.m, "", `{"intent":"`+intent+`","status":"failed","amount_fen":1,"provider_ref":"x"}`, now)
		}, 400, "invalid_callback"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			tc.r(t).wantProblem(t, tc.status, tc.code)
			unchanged(t)
		})
	}
	if s.stock(t) != stock {
		t.Fatal("refused callbacks changed stock")
	}

	nonce := newNonce()
	r := callback(t, s.m, secret, "", body(amount), ts, nonce)
	if r.Status != 200 {
		t.Fatalf("good callback: %d %s", r.Status, r.Body)
	}
	paid := orderStatus(t, s.base, buyer.Token, o.ID)
	if paid.Status != "paid" {
		t.Fatalf("order %s after a good callback", paid.Status)
	}
	t.Run("Replayed", func(t *testing.T) {
		callback(t, s.m, secret, "", body(amount), ts, nonce).wantProblem(t, 409, "replayed_callback")
	})
	t.Run("SecondPaymentSameIntent", func(t *testing.T) {
		signedCallback(t, s.m, "", body(amount), time.Now()).wantProblem(t, 409, "replayed_callback")
	})
	if again := orderStatus(t, s.base, buyer.Token, o.ID); again.Status != "paid" {
		t.Fatalf("order %s after replays", again.Status)
	}
	if s.stock(t) != stock {
		t.Fatal("replayed callbacks changed stock")
	}
}

// TestDevProviderOffInProduction: with SHELFLIVE_DEV=false the simulated
// provider must not be reachable, or any buyer could mark an order paid
// without paying.
func TestDevProviderOffInProduction(t *testing.T) {
	s := newShop(t, "-dev=false", "-secret-key", "0123456789abcdef0123456789abcdef") // production needs its secret key
	ctx := t.Context()
	mer, err := s.m.App.Users.MerchantBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	// No SMS gateway here: plant a known one-time code the way the SMS path would.
	phone, code := "13900000051", "424242"
	if err := s.m.App.Users.CreateOTP(ctx, mer.ID, phone, identity.HashToken(phone+":"+code), time.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	r := send(t, nil, s.base, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": code}, "", nil)
	if r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	var sess session
	r.decode(t, &sess)
	r = send(t, nil, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), sess.Token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	// The dev provider is not offered: neither by default nor when asked for.
	pay := "/api/v1/orders/" + strconv.FormatInt(o.ID, 10) + "/pay"
	send(t, nil, s.base, "POST", pay, nil, sess.Token, nil).problem(t, 404)
	send(t, nil, s.base, "POST", pay, map[string]string{"provider": "dev", "method": "page"}, sess.Token, nil).problem(t, 404)
	var opts struct {
		Providers []string `json:"providers"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/payment-options", nil, sess.Token, nil).decode(t, &opts)
	if len(opts.Providers) != 0 {
		t.Fatalf("providers offered in production without accounts: %v", opts.Providers)
	}
	intent := "pi_000000000000000000000000"
	send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil).problem(t, 404)
	if r := send(t, nil, s.base, "GET", "/pay/dev/"+intent, nil, "", nil); r.Status != 404 {
		t.Fatalf("dev pay page: %d", r.Status)
	}
	if st := orderStatus(t, s.base, sess.Token, o.ID).Status; st != "pending_payment" {
		t.Fatalf("order %s without payment", st)
	}
}

// jarClient is a browser-like client: it keeps cookies and does not follow
// redirects.
func jarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: noRedirect.CheckRedirect}
}

// TestCookieSessionsAndCSRF logs in like a browser (cookie, no bearer
// token): reads work, state changes need the session's X-CSRF-Token, and
// requests from another origin are refused even with it.
func TestCookieSessionsAndCSRF(t *testing.T) {
	s := newShop(t)
	var room struct {
		Pinned struct {
			ID int64 `json:"id"`
		} `json:"pinned"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &room)
	pin := map[string]any{"product_id": room.Pinned.ID}

	t.Run("StaffCookie", func(t *testing.T) {
		hc := jarClient(t)
		r := send(t, hc, s.base, "POST", "/api/v1/auth/login", map[string]string{"login": "host", "password": "shelflive-demo"}, "", nil)
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		var sess session
		r.decode(t, &sess)
		var ck *http.Cookie
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "sl_staff" {
				ck = c
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", ck)
		}
		if ck.Value == "" || ck.Value == sess.CSRF {
			t.Fatal("cookie carries the CSRF token")
		}
		// A second login rotates the session: a new secret every time.
		again := staffLogin(t, s.base, "host", "shelflive-demo")
		if again.Token == sess.Token || again.CSRF == sess.CSRF {
			t.Fatal("login reused a session")
		}

		if r := send(t, hc, s.base, "GET", "/api/v1/auth/me", nil, "", map[string]string{"X-ShelfLive-As": "staff"}); r.Status != 200 {
			t.Fatalf("read with cookie: %d %s", r.Status, r.Body)
		}
		send(t, hc, s.base, "POST", "/api/v1/rooms/demo/pin", pin, "", nil).wantProblem(t, 403, "csrf")
		send(t, hc, s.base, "POST", "/api/v1/rooms/demo/pin", pin, "", map[string]string{"X-CSRF-Token": again.CSRF}).wantProblem(t, 403, "csrf")
		send(t, hc, s.base, "DELETE", "/api/v1/rooms/demo/pin", nil, "", nil).wantProblem(t, 403, "csrf")
		if r := send(t, hc, s.base, "POST", "/api/v1/rooms/demo/pin", pin, "", map[string]string{"X-CSRF-Token": sess.CSRF}); r.Status != 200 {
			t.Fatalf("with CSRF token: %d %s", r.Status, r.Body)
		}
		send(t, hc, s.base, "POST", "/api/v1/rooms/demo/pin", pin, "", map[string]string{"X-CSRF-Token": sess.CSRF, "Origin": "https://evil.example"}).wantProblem(t, 403, "cross_origin")
		if r := send(t, hc, s.base, "POST", "/api/v1/rooms/demo/pin", pin, "", map[string]string{"X-CSRF-Token": sess.CSRF, "Origin": s.base}); r.Status != 200 {
			t.Fatalf("same origin: %d %s", r.Status, r.Body)
		}
		// Logging out is a state change too, and ends the session.
		send(t, hc, s.base, "POST", "/api/v1/auth/logout", nil, "", map[string]string{"X-ShelfLive-As": "staff"}).wantProblem(t, 403, "csrf")
		if r := send(t, hc, s.base, "POST", "/api/v1/auth/logout", nil, "", map[string]string{"X-ShelfLive-As": "staff", "X-CSRF-Token": sess.CSRF}); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		send(t, nil, s.base, "GET", "/api/v1/auth/me", nil, sess.Token, nil).wantProblem(t, 401, "unauthorized")
	})

	t.Run("ViewerCookie", func(t *testing.T) {
		hc := jarClient(t)
		r := send(t, hc, s.base, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "13900000071"}, "", nil)
		var otp struct {
			DevCode string `json:"dev_code"`
		}
		r.decode(t, &otp)
		r = send(t, hc, s.base, "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": "13900000071", "code": otp.DevCode}, "", nil)
		if r.Status != 200 {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
		var sess session
		r.decode(t, &sess)
		before, n := s.stock(t), s.orderCount(t)
		send(t, hc, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), "", nil).wantProblem(t, 403, "csrf")
		send(t, hc, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]string{"text": "好吃吗"}, "", nil).wantProblem(t, 403, "csrf")
		if s.stock(t) != before || s.orderCount(t) != n {
			t.Fatal("a refused request wrote something")
		}
		if r := send(t, hc, s.base, "POST", "/api/v1/orders", s.pickup([2]int64{s.sku1, 1}), "", map[string]string{"X-CSRF-Token": sess.CSRF}); r.Status != 201 {
			t.Fatalf("order with CSRF token: %d %s", r.Status, r.Body)
		}
	})

	t.Run("CrossOrigin", func(t *testing.T) {
		evil := map[string]string{"Origin": "http://evil.example"}
		send(t, nil, s.base, "POST", "/api/v1/rooms/demo/pin", pin, testkit.OwnerToken, evil).wantProblem(t, 403, "cross_origin")
		send(t, nil, s.base, "POST", "/api/v1/auth/login", map[string]string{"login": "host", "password": "shelflive-demo"}, "", evil).wantProblem(t, 403, "cross_origin")
		send(t, nil, s.base, "POST", "/api/v1/rooms/demo/likes", map[string]int{"count": 1}, "", evil).wantProblem(t, 403, "cross_origin")
		// Look-alike hosts are other origins too.
		host := strings.TrimPrefix(s.base, "http://")
		send(t, nil, s.base, "POST", "/api/v1/rooms/demo/likes", map[string]int{"count": 1}, "", map[string]string{"Origin": "http://" + host + ".evil.example"}).wantProblem(t, 403, "cross_origin")
		if r := send(t, nil, s.base, "POST", "/api/v1/rooms/demo/pin", pin, testkit.OwnerToken, map[string]string{"Origin": s.base}); r.Status != 200 {
			t.Fatalf("same origin with bearer: %d %s", r.Status, r.Body)
		}
	})

	t.Run("CrossOriginWebSocket", func(t *testing.T) {
		// A page on another site must not open the room socket with the
		// viewer's cookies (cross-site WebSocket hijacking).
		hc := &http.Client{Timeout: 5 * time.Second}
		r := send(t, hc, s.base, "GET", "/api/v1/ws?sub=room:1", nil, "", map[string]string{
			"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "https://evil.example",
		})
		if r.Status != http.StatusForbidden {
			t.Fatalf("cross-origin upgrade: %d", r.Status)
		}
	})
}

// TestAPITokens: tokens act with their role in their merchant only, are
// shown once and stored hashed, and stop working when revoked.
func TestAPITokens(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	r := send(t, nil, s.base, "POST", "/api/v1/auth/tokens", map[string]any{"role": "host", "label": "obs-bot", "days": 7}, owner, nil)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var tok struct {
		ID        int64     `json:"id"`
		Token     string    `json:"token"`
		Role      string    `json:"role"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	r.decode(t, &tok)
	if tok.Token == "" || tok.Role != "host" || tok.ExpiresAt.Before(time.Now().Add(6*24*time.Hour)) {
		t.Fatalf("token %+v", tok)
	}

	// Scoped by role: a host token reads products but cannot write them.
	if r := send(t, nil, s.base, "GET", "/api/v1/products", nil, tok.Token, nil); r.Status != 200 {
		t.Fatalf("host token read: %d", r.Status)
	}
	send(t, nil, s.base, "POST", "/api/v1/products", map[string]any{"name": "x"}, tok.Token, nil).wantProblem(t, 403, "forbidden")
	send(t, nil, s.base, "GET", "/api/v1/staff", nil, tok.Token, nil).wantProblem(t, 403, "forbidden")

	// Shown once, stored hashed.
	list := send(t, nil, s.base, "GET", "/api/v1/auth/tokens", nil, owner, nil)
	if list.Status != 200 || strings.Contains(string(list.Body), tok.Token) || !strings.Contains(string(list.Body), "obs-bot") {
		t.Fatalf("token list: %d %s", list.Status, list.Body)
	}
	ctx := t.Context()
	if _, err := s.m.App.Users.SessionByTokenHash(ctx, tok.Token); err == nil {
		t.Fatal("the raw token is stored")
	}
	if _, err := s.m.App.Users.SessionByTokenHash(ctx, identity.HashToken(tok.Token)); err != nil {
		t.Fatalf("token hash not stored: %v", err)
	}

	// Only an owner mints owner tokens; an unknown role is refused.
	send(t, nil, s.base, "POST", "/api/v1/auth/tokens", map[string]any{"role": "root"}, owner, nil).wantProblem(t, 400, "invalid_role")

	// Revoked: refused at once, and revoking twice finds nothing.
	if r := send(t, nil, s.base, "DELETE", "/api/v1/auth/tokens/"+strconv.FormatInt(tok.ID, 10), nil, owner, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	send(t, nil, s.base, "GET", "/api/v1/products", nil, tok.Token, nil).wantProblem(t, 401, "unauthorized")
	send(t, nil, s.base, "DELETE", "/api/v1/auth/tokens/"+strconv.FormatInt(tok.ID, 10), nil, owner, nil).wantProblem(t, 404, "not_found")

	t.Run("PasswordsHashed", func(t *testing.T) {
		const pw = "correct horse battery"
		r := send(t, nil, s.base, "POST", "/api/v1/staff", map[string]any{"username": "hash-check", "name": "哈希", "role": "guide", "password": pw}, owner, nil)
		if r.Status != 201 || strings.Contains(string(r.Body), pw) || strings.Contains(string(r.Body), "argon2") {
			t.Fatalf("create staff: %d %s", r.Status, r.Body)
		}
		st, err := s.m.App.Users.StaffByLogin(t.Context(), "hash-check")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(st.PasswordHash, "$argon2id$") || strings.Contains(st.PasswordHash, pw) {
			t.Fatalf("stored password %q is not an argon2id hash", st.PasswordHash)
		}
		list := send(t, nil, s.base, "GET", "/api/v1/staff", nil, owner, nil)
		if strings.Contains(string(list.Body), "$argon2id$") {
			t.Fatal("staff list shows password hashes")
		}
	})
}

var (
	tagRE    = regexp.MustCompile(`(?is)<([a-z][a-z0-9]*)\b([^>]*)>`)
	inlineRE = regexp.MustCompile(`(?i)\s(on[a-z]+|style)\s*=`)
)

// TestPageSecurityHeaders checks every page for a strict Content-Security-
// Policy (no inline script or style allowed) and the other headers, and that
// the HTML itself needs no inline script or style, so the policy holds.
func TestPageSecurityHeaders(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000081")
	o, intent, _ := placeAndStartPaying(t, s, buyer.Token, 1)
	pages := []struct {
		path, token string
	}{
		{"/", ""}, {"/live/demo", ""}, {"/login", ""}, {"/studio", testkit.OwnerToken}, {"/admin", testkit.OwnerToken},
		{"/pickup", testkit.OwnerToken}, {"/orders/" + strconv.FormatInt(o.ID, 10), buyer.Token}, {"/pay/dev/" + intent, ""},
		{"/no-such-page", ""}, {"/studio", buyer.Token},
	}
	for _, p := range pages {
		t.Run(strings.ReplaceAll(p.path, "/", "_"), func(t *testing.T) {
			r := send(t, nil, s.base, "GET", p.path, nil, p.token, nil)
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, content type %q", r.Status, r.Header.Get("Content-Type"))
			}
			csp := map[string]string{}
			for _, d := range strings.Split(r.Header.Get("Content-Security-Policy"), ";") {
				name, val, _ := strings.Cut(strings.TrimSpace(d), " ")
				csp[name] = val
			}
			for _, d := range []string{"default-src", "script-src", "style-src", "object-src", "base-uri", "frame-ancestors"} {
				if csp[d] == "" {
					t.Errorf("CSP lacks %s: %q", d, r.Header.Get("Content-Security-Policy"))
				}
			}
			if strings.Contains(r.Header.Get("Content-Security-Policy"), "unsafe-") {
				t.Errorf("CSP allows unsafe sources: %q", r.Header.Get("Content-Security-Policy"))
			}
			if csp["object-src"] != "'none'" || csp["frame-ancestors"] != "'none'" {
				t.Errorf("CSP object-src %q frame-ancestors %q", csp["object-src"], csp["frame-ancestors"])
			}
			for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			for _, m := range tagRE.FindAllSubmatch(r.Body, -1) {
				tag, attrs := strings.ToLower(string(m[1])), string(m[2])
				if inlineRE.MatchString(attrs) {
					t.Errorf("inline handler or style needs unsafe-inline: <%s%s>", tag, attrs)
				}
				if tag == "script" && !strings.Contains(attrs, "src=") && !strings.Contains(attrs, `type="application/json"`) {
					t.Errorf("inline script: <script%s>", attrs)
				}
				if tag == "style" {
					t.Errorf("inline <style> block")
				}
			}
		})
	}
	t.Run("APINoSniff", func(t *testing.T) {
		r := send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil)
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatal("API answers without nosniff")
		}
	})
}

// TestAbuseLimits: oversized bodies are refused before they are decoded,
// OTP requests and logins are throttled with 429 + Retry-After, and comment
// floods are cut off.
func TestAbuseLimits(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900000091")

	t.Run("BodyTooLarge", func(t *testing.T) {
		before, n := s.stock(t), s.orderCount(t)
		big := `{"items":[{"sku_id":` + strconv.FormatInt(s.sku1, 10) + `,"quantity":1}],"fulfilment":"delivery","contact_name":"x","address":"` + strings.Repeat("长", 1<<20) + `"}`
		r := send(t, nil, s.base, "POST", "/api/v1/orders", big, buyer.Token, nil)
		if r.Status == 413 {
			r.problem(t, 413)
		} else {
			r.wantProblem(t, 400, "body_too_large")
		}
		r = send(t, nil, s.base, "POST", "/api/v1/auth/login", `{"login":"`+strings.Repeat("a", 2<<20)+`","password":"x"}`, "", nil)
		if r.Status != 413 {
			r.wantProblem(t, 400, "body_too_large")
		}
		if s.stock(t) != before || s.orderCount(t) != n {
			t.Fatal("oversized request wrote something")
		}
	})

	t.Run("CommentFlood", func(t *testing.T) {
		// A burst of distinct comments hits the per-user gap or rate limit
		// long before 30; timing-independent: any limiter may answer first.
		var r result
		for i := range 30 {
			r = send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]string{"text": "第" + strconv.Itoa(i) + "条"}, buyer.Token, nil)
			if r.Status == 429 {
				break
			}
			if r.Status != 201 {
				t.Fatalf("comment %d: %d %s", i, r.Status, r.Body)
			}
		}
		p := r.problem(t, 429)
		if p.Code != "comment_rate_limited" && p.Code != "rate_limited" {
			t.Fatalf("code %q", p.Code)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})

	t.Run("OTPRequests", func(t *testing.T) {
		var r result
		for i := range 10 {
			r = send(t, nil, s.base, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": "1390000010" + strconv.Itoa(i)}, "", nil)
			if r.Status == 429 {
				break
			}
			if r.Status != 200 {
				t.Fatalf("otp %d: %d %s", i, r.Status, r.Body)
			}
		}
		r.wantProblem(t, 429, "rate_limited")
		if sec, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || sec < 1 || sec > 60 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	})

	t.Run("LoginThrottle", func(t *testing.T) {
		for range 5 {
			send(t, nil, s.base, "POST", "/api/v1/auth/login", map[string]string{"login": "quality", "password": "guess"}, "", nil).wantProblem(t, 401, "bad_credentials")
		}
		r := send(t, nil, s.base, "POST", "/api/v1/auth/login", map[string]string{"login": "quality", "password": "shelflive-demo"}, "", nil)
		r.wantProblem(t, 429, "login_throttled")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
}

// TestContactMasking: buyers' phone numbers and addresses reach only staff
// with customer.pii; hosts see them masked, everywhere they see orders.
func TestContactMasking(t *testing.T) {
	s := newShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13912340001")
	r := send(t, nil, s.base, "POST", "/api/v1/orders", map[string]any{
		"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "delivery",
		"contact_name": "李四", "contact_phone": "13987654321", "address": "上海市徐汇区漕溪北路88号 12楼",
	}, buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o orderView
	r.decode(t, &o)
	id := strconv.FormatInt(o.ID, 10)
	host := staffLogin(t, s.base, "host", "shelflive-demo")
	for _, tc := range []struct {
		who, token string
		full       bool
	}{{"owner", testkit.OwnerToken, true}, {"buyer", buyer.Token, true}, {"host", host.Token, false}} {
		for _, path := range []string{"/api/v1/orders/" + id, "/api/v1/orders", "/api/v1/me/orders"} {
			if (path == "/api/v1/me/orders") != (tc.who == "buyer") {
				continue
			}
			r := send(t, nil, s.base, "GET", path, nil, tc.token, nil)
			if r.Status != 200 {
				t.Fatalf("%s GET %s: %d", tc.who, path, r.Status)
			}
			body := string(r.Body)
			hasFull := strings.Contains(body, "13987654321") || strings.Contains(body, "漕溪北路")
			if hasFull != tc.full {
				t.Errorf("%s GET %s: full contact shown = %v, want %v: %s", tc.who, path, hasFull, tc.full, body)
			}
			if !tc.full && !strings.Contains(body, "139****4321") {
				t.Errorf("%s GET %s: masked phone missing: %s", tc.who, path, body)
			}
		}
	}
}

// hostile payloads that become markup if any page inserts user text as HTML.
var hostile = []string{
	`<img src=x id=xss1 onerror="window.__xss=1">`,
	`<script id=xss2>window.__xss=2</script>`,
	`"><svg id=xss3 onload="window.__xss=3">`,
	`</script><iframe id=xss4 srcdoc="x"></iframe>`,
}

// TestHostileTextInViewerPage stores hostile comments (viewers) and a
// hostile room title and product name (staff), then opens the viewer room in
// a real browser: the text shows literally and no element is injected.
func TestHostileTextInViewerPage(t *testing.T) {
	t.Parallel() // mostly waiting (timeouts, expiry, the browser): overlap it with the rest
	browser := testkit.Browser(t)
	s := newShop(t)
	for i, p := range hostile[:3] {
		v := viewerLogin(t, s.base, "demo", "1390000030"+strconv.Itoa(i))
		if r := send(t, nil, s.base, "POST", "/api/v1/rooms/demo/comments", map[string]string{"text": p}, v.Token, nil); r.Status != 201 {
			t.Fatalf("comment %q: %d %s", p, r.Status, r.Body)
		}
	}
	owner := testkit.OwnerToken
	if r := send(t, nil, s.base, "PATCH", "/api/v1/rooms/demo", map[string]string{"title": hostile[3]}, owner, nil); r.Status != 200 {
		t.Fatalf("room title: %d %s", r.Status, r.Body)
	}
	var room struct {
		Pinned map[string]any `json:"pinned"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &room)
	prod := room.Pinned
	id := strconv.FormatInt(int64(prod["id"].(float64)), 10)
	prod["name"] = hostile[0]
	delete(prod, "available")
	if r := send(t, nil, s.base, "PUT", "/api/v1/products/"+id, prod, owner, nil); r.Status != 200 {
		t.Fatalf("product name: %d %s", r.Status, r.Body)
	}

	ctx := testkit.NewContext(t, browser, 60*time.Second)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(s.base+"/live/demo"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#comments li").length >= 3`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		testkit.Screenshot(t, ctx, "hostile-text")
		t.Fatal(err)
	}
	testkit.Screenshot(t, ctx, "hostile-text")
	eval := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return n
	}
	injected := eval(`document.querySelectorAll("#xss1, #xss2, #xss3, #xss4, #comments img, #comments svg, #comments script, #room-title *, #pinned-name *").length`)
	shown := eval(`[...document.querySelectorAll("#comments li")].filter(li => ` + jsStrings(hostile[:3]) + `.some(p => li.textContent.includes(p))).length
		+ (document.querySelector("#room-title").textContent.includes(` + jsString(hostile[3]) + `) ? 1 : 0)
		+ (document.querySelector("#pinned-name") && document.querySelector("#pinned-name").textContent === ` + jsString(hostile[0]) + ` ? 1 : 0)`)
	flag, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__xss)`))
	if err != nil {
		t.Fatal(err)
	}
	if injected != 0 || flag != "undefined" {
		t.Fatalf("%d injected elements, window.__xss = %s", injected, flag)
	}
	if shown != 5 {
		t.Fatalf("only %d of 5 hostile texts shown literally", shown)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsStrings(list []string) string {
	b, _ := json.Marshal(list)
	return string(b)
}

// FuzzOrderRequest throws arbitrary bodies at order creation: the answer is
// an order or a problem+json 4xx, never a 5xx, and stock never goes below
// what is reserved. CI runs it for a bounded time:
//
//	go test ./internal/web -run '^$' -fuzz FuzzOrderRequest -fuzztime 20s
func FuzzOrderRequest(f *testing.F) {
	s := newShop(f)
	buyer := viewerLogin(f, s.base, "demo", "13900000401")
	sku := strconv.FormatInt(s.sku1, 10)
	store := strconv.FormatInt(s.storeID, 10)
	for _, seed := range []string{
		`{"items":[{"sku_id":` + sku + `,"quantity":1}],"fulfilment":"pickup","store_id":` + store + `}`,
		`{"items":[{"sku_id":` + sku + `,"quantity":1}],"fulfilment":"delivery","contact_name":"张三","address":"上海市"}`,
		`{"items":[{"sku_id":` + sku + `,"quantity":99}],"fulfilment":"pickup","store_id":` + store + `}`,
		`{"items":[{"sku_id":` + sku + `,"quantity":-1}],"fulfilment":"pickup","store_id":` + store + `}`,
		`{"items":[{"sku_id":1e400,"quantity":1}]}`,
		`{"items":[{"sku_id":9223372036854775808,"quantity":1}]}`,
		`{"items":[{"sku_id":` + sku + `,"quantity":1}],"fulfilment":"pickup","store_id":` + store + `,"contact_phone":"+86 139 0000 0000","guide_code":"` + strings.Repeat("g", 40) + `"}`,
		`{"items":null}`, `{"items":{}}`, `[]`, `null`, `{`, ``, `{"items":[]}{}`, "{\"items\":\"\u0000\"}", `{"fulfilment":"pickup","fulfilment":"delivery"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := send(t, nil, s.base, "POST", "/api/v1/orders", body, buyer.Token, nil)
		switch {
		case r.Status == 200 || r.Status == 201:
			var o struct {
				TotalFen int64 `json:"total_fen"`
				Lines    []struct {
					Quantity int64 `json:"quantity"`
					UnitFen  int64 `json:"unit_fen"`
					TotalFen int64 `json:"total_fen"`
				} `json:"lines"`
			}
			r.decode(t, &o)
			var sum int64
			for _, l := range o.Lines {
				if l.Quantity < 1 || l.TotalFen != l.Quantity*l.UnitFen {
					t.Fatalf("bad line %+v", l)
				}
				sum += l.TotalFen
			}
			if sum != o.TotalFen || len(o.Lines) == 0 {
				t.Fatalf("total %d, lines sum %d", o.TotalFen, sum)
			}
			var lv struct {
				Levels []struct {
					OnHand   int64 `json:"on_hand"`
					Reserved int64 `json:"reserved"`
				} `json:"levels"`
			}
			send(t, nil, s.base, "GET", "/api/v1/stock?sku_id="+sku, nil, testkit.OwnerToken, nil).decode(t, &lv)
			for _, l := range lv.Levels {
				if l.Reserved < 0 || l.Reserved > l.OnHand {
					t.Fatalf("stock level %+v", l)
				}
			}
		case r.Status >= 400 && r.Status < 500:
			r.problem(t, r.Status)
		default:
			t.Fatalf("status %d for %q: %s", r.Status, body, r.Body)
		}
	})
}

// TestMisbehavingClients: thousands of idle sockets and slow-header
// (slowloris) connections do not stop the server from answering others, the
// slow ones are cut off by the header timeout, and oversized headers are
// refused.
func TestMisbehavingClients(t *testing.T) {
	t.Parallel() // mostly waiting (timeouts, expiry, the browser): overlap it with the rest
	s := newShop(t)
	addr := strings.TrimPrefix(s.base, "http://")
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range 2000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if i%10 == 0 { // every tenth one dribbles a request it never finishes
			if _, err := c.Write([]byte("GET /api/v1/rooms/demo HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
				t.Fatal(err)
			}
		}
		conns = append(conns, c)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	for i := range 20 {
		start := time.Now()
		r := send(t, hc, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil)
		if r.Status != 200 {
			t.Fatalf("request %d under load: %d", i, r.Status)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("request %d took %v with 2000 idle/slow sockets open", i, d)
		}
	}
	// The server drops connections that never finish their headers (5 s).
	for _, c := range []net.Conn{conns[0], conns[1]} { // one slow, one silent
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		buf := make([]byte, 512)
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue // e.g. a 408 before the close
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("a connection without complete headers is still open after 15 s")
			}
			break
		}
	}
	// Oversized headers.
	req, _ := http.NewRequest("GET", s.base+"/api/v1/rooms/demo", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 200<<10))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KiB header: %d", resp.StatusCode)
	}
}

// lockedBuffer collects a node's logs across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoSecretsInLogs runs logins, an order with contact data, payments and
// refused requests on a node that logs everything at debug level, then looks
// for phone numbers, addresses, passwords, codes and tokens in the log.
func TestNoSecretsInLogs(t *testing.T) {
	logs := &lockedBuffer{}
	c, err := node.ParseConfig("test", []string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-rtmp-addr", "", "-mqtt-addr", "", "-admin-token", testkit.OwnerToken})
	if err != nil {
		t.Fatal(err)
	}
	m := &node.Main{Config: c, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := m.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	base := m.URL()

	phone, contact, address, password := "13955501234", "13955506789", "上海市静安区秘密路99号", "not-logged-pw-1"
	buyer := viewerLogin(t, base, "demo", phone)
	staffLogin(t, base, "host", "shelflive-demo")
	send(t, nil, base, "POST", "/api/v1/auth/login", map[string]string{"login": "owner", "password": password}, "", nil)
	var stores struct {
		Stores []struct {
			ID       int64 `json:"id"`
			Delivery bool  `json:"delivery"`
		} `json:"stores"`
	}
	send(t, nil, base, "GET", "/api/v1/stores", nil, testkit.OwnerToken, nil).decode(t, &stores)
	var products struct {
		Products []struct {
			SKUs []struct {
				ID int64 `json:"id"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, base, "GET", "/api/v1/products", nil, testkit.OwnerToken, nil).decode(t, &products)
	r := send(t, nil, base, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": products.Products[0].SKUs[0].ID, "quantity": 1}},
		"fulfilment": "delivery", "contact_name": "王五", "contact_phone": contact, "address": address}, buyer.Token, nil)
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o struct {
		ID int64 `json:"id"`
	}
	r.decode(t, &o)
	var in struct {
		Intent string `json:"intent"`
	}
	send(t, nil, base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", nil, buyer.Token, nil).decode(t, &in)
	signedCallback(t, m, "", `{"intent":"`+in.Intent+`","status":"paid","amount_fen":1,"provider_ref":"x"}`, time.Now()) // refused: amount
	if r := send(t, nil, base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	send(t, nil, base, "GET", "/api/v1/orders", nil, "wrong-token-abc", nil)

	out := logs.String()
	if !strings.Contains(out, "dev sms") || !strings.Contains(out, "payment callback refused") {
		t.Fatalf("the log is missing the events this test expects; did logging change?\n%s", out)
	}
	for what, secret := range map[string]string{"login phone": phone, "contact phone": contact, "address": address, "password": password,
		"session token": buyer.Token, "owner token": testkit.OwnerToken, "bad token": "wrong-token-abc", "pay secret": string(m.App.Provider.Secret)} {
		if strings.Contains(out, secret) {
			t.Errorf("%s appears in the log", what)
		}
	}
}

// TestAuditTrail: price changes, refunds, lot holds, role changes and token
// creation are recorded with who did them, and no route edits the log.
func TestAuditTrail(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	host := staffLogin(t, s.base, "host", "shelflive-demo")
	sku := strconv.FormatInt(s.sku1, 10)

	// A paid order, refunded by the owner.
	buyer := viewerLogin(t, s.base, "demo", "13900000501")
	o, intent, _ := placeAndStartPaying(t, s, buyer.Token, 1)
	if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	if r := send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/status", map[string]string{"status": "cancelled"}, owner, nil); r.Status != 200 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	// A host may not refund.
	send(t, nil, s.base, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/status", map[string]string{"status": "cancelled"}, host.Token, nil).wantProblem(t, 403, "forbidden")

	// Above its ¥49.80 list price: no comparison for the list-price rule to judge.
	if r := send(t, nil, s.base, "POST", "/api/v1/skus/"+sku+"/price", map[string]int64{"price_fen": 5234}, host.Token, nil); r.Status != 200 {
		t.Fatalf("price: %d %s", r.Status, r.Body)
	}
	var lots struct {
		Lots []struct {
			ID int64 `json:"id"`
		} `json:"lots"`
	}
	send(t, nil, s.base, "GET", "/api/v1/lots?sku_id="+sku, nil, owner, nil).decode(t, &lots)
	if r := send(t, nil, s.base, "POST", "/api/v1/lots/"+strconv.FormatInt(lots.Lots[0].ID, 10)+"/hold", map[string]any{"hold": true, "reason": "温度超标"}, owner, nil); r.Status != 200 {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	var staff struct {
		Staff []struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		} `json:"staff"`
	}
	send(t, nil, s.base, "GET", "/api/v1/staff", nil, owner, nil).decode(t, &staff)
	for _, st := range staff.Staff {
		if st.Username == "guide" {
			if r := send(t, nil, s.base, "PUT", "/api/v1/staff/"+strconv.FormatInt(st.ID, 10), map[string]any{"name": "王导购", "role": "store"}, owner, nil); r.Status != 200 {
				t.Fatalf("role: %d %s", r.Status, r.Body)
			}
		}
	}
	if r := send(t, nil, s.base, "POST", "/api/v1/auth/tokens", map[string]any{"role": "quality", "label": "sensor-gw"}, owner, nil); r.Status != 201 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}

	var log struct {
		Entries []struct {
			Actor, Action, Object, Detail string
		} `json:"entries"`
	}
	send(t, nil, s.base, "GET", "/api/v1/audit", nil, owner, nil).decode(t, &log)
	for _, want := range []struct{ action, actor, detail string }{
		{"order.cancel", "token:SHELFLIVE_ADMIN_TOKEN", "refunded_fen="},
		{"price.change", "小鲜主播", "-> 5234 fen"},
		{"lot.hold", "token:SHELFLIVE_ADMIN_TOKEN", "温度超标"},
		{"staff.role", "token:SHELFLIVE_ADMIN_TOKEN", "guide -> store"},
		{"token.create", "token:SHELFLIVE_ADMIN_TOKEN", "quality"},
	} {
		found := false
		for _, e := range log.Entries {
			if e.Action == want.action && e.Actor == want.actor && strings.Contains(e.Detail, want.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit entry %+v in %+v", want, log.Entries)
		}
	}
	// Read-only for everyone: the route table has no way to change it.
	for _, rt := range s.m.Server.Routes() {
		if strings.Contains(rt.Path, "audit") && rt.Method != "GET" {
			t.Errorf("%s %s changes the audit log", rt.Method, rt.Path)
		}
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH", "POST"} {
		if r := send(t, nil, s.base, m, "/api/v1/audit", map[string]any{}, owner, nil); r.Status/100 == 2 {
			t.Errorf("%s /api/v1/audit answered %d", m, r.Status)
		}
	}
}

// TestPickupNeedsCode: a paid pickup order cannot be marked completed through
// the status API, even by the owner; only checking its pickup code at the
// store hands it over (and consumes the stock, once).
func TestPickupNeedsCode(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	buyer := viewerLogin(t, s.base, "demo", "13900000601")
	o, intent, _ := placeAndStartPaying(t, s, buyer.Token, 1)
	if r := send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+intent+"/confirm", nil, "", nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	before := s.stock(t)
	id := strconv.FormatInt(o.ID, 10)
	send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/status", map[string]string{"status": "completed"}, owner, nil).wantProblem(t, 409, "pickup_needs_code")
	var got orderView
	send(t, nil, s.base, "GET", "/api/v1/orders/"+id, nil, owner, nil).decode(t, &got)
	if got.Status != "paid" || s.stock(t) != before {
		t.Fatalf("refused completion changed the order (%s) or the stock (%s → %s)", got.Status, before, s.stock(t))
	}
	// Ready is still a status move; the hand-over is the code.
	if r := send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/status", map[string]string{"status": "ready"}, owner, nil); r.Status != 200 {
		t.Fatalf("ready: %d %s", r.Status, r.Body)
	}
	send(t, nil, s.base, "POST", "/api/v1/orders/"+id+"/status", map[string]string{"status": "completed"}, owner, nil).wantProblem(t, 409, "pickup_needs_code")
	r := send(t, nil, s.base, "POST", "/api/v1/pickups/verify", map[string]any{"code": o.PickupCode, "confirm": true}, owner, nil)
	if r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	r.decode(t, &got)
	if got.Status != "completed" {
		t.Fatalf("after the code: %s", got.Status)
	}
}
