package web_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

func newShop(t *testing.T, extra ...string) *demoShop {
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
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	TotalFen   int64  `json:"total_fen"`
	PickupCode string `json:"pickup_code"`
	PaidAt     *time.Time
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
		{"UnknownField", buyer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": s.sku1, "quantity": 1}}, "fulfilment": "pickup", "store_id": s.storeID, "coupon": "FREE"}, nil, 400, "unknown_field", "coupon"},
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
