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
