package apiclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shelflive/shelflive/internal/apiclient"
)

// TestClient checks what every caller relies on: the bearer token, JSON body
// and content type, per-request headers, problem answers decoded as well, and
// the dev-mode OTP login handing back a client with the session token.
func TestClient(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("X-Seen", r.Header.Get("Authorization")+"|"+r.Header.Get("Content-Type")+"|"+r.Header.Get("Idempotency-Key")+"|"+r.Header.Get("X-Always"))
		json.NewEncoder(w).Encode(in)
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(404)
		w.Write([]byte(`{"code":"not_found"}`))
	})
	mux.HandleFunc("POST /api/v1/auth/otp", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"sent":true,"dev_code":"123456"}`))
	})
	mux.HandleFunc("POST /api/v1/auth/otp/verify", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		if in["code"] != "123456" || in["merchant"] != "demo" || in["phone"] != "13900000001" {
			w.WriteHeader(400)
			return
		}
		w.Write([]byte(`{"token":"tok-1"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	c := &apiclient.Client{Base: srv.URL, Token: "abc", Header: map[string]string{"X-Always": "1"}}
	var out map[string]any
	st, hdr, err := c.CallWith(ctx, "POST", "/echo", map[string]string{"Idempotency-Key": "k1"}, map[string]int{"n": 7}, &out)
	if err != nil || st != 200 || out["n"] != 7.0 {
		t.Fatalf("echo: %d %v %v", st, out, err)
	}
	if got := hdr.Get("X-Seen"); got != "Bearer abc|application/json|k1|1" {
		t.Fatalf("headers seen by the server: %q", got)
	}
	var prob struct{ Code string }
	if st, err := c.Call(ctx, "GET", "/missing", nil, &prob); err != nil || st != 404 || prob.Code != "not_found" {
		t.Fatalf("problem: %d %+v %v", st, prob, err)
	}
	v, err := apiclient.LoginViewer(ctx, &apiclient.Client{Base: srv.URL}, "demo", "13900000001")
	if err != nil || v.Token != "tok-1" || v.Base != srv.URL {
		t.Fatalf("login: %+v %v", v, err)
	}
	if _, err := apiclient.LoginViewer(ctx, &apiclient.Client{Base: srv.URL}, "demo", "13900000002"); err == nil {
		t.Fatal("a refused verify logged in")
	}
}
