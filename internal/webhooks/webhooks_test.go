package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// The published Standard Webhooks test vector: a receiver's library must
// accept what we send, so our signature has to reproduce it exactly.
func TestSignStandardWebhooksVector(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	got, err := webhooks.Sign(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
	if !webhooks.Verify(secret, id, "1614265330", "v1,bm9wZQ== "+got, body, ts.Add(time.Minute), 5*time.Minute) {
		t.Fatal("Verify refused the published vector among several signatures")
	}
	for name, c := range map[string]struct{ id, ts, body string }{
		"TamperedBody": {id, "1614265330", `{"test": 2432232315}`},
		"OtherID":      {"msg_other", "1614265330", string(body)},
		"OtherTime":    {id, "1614265331", string(body)},
	} {
		if webhooks.Verify(secret, c.id, c.ts, got, []byte(c.body), ts, 5*time.Minute) {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
	if webhooks.Verify(secret, id, "1614265330", got, body, ts.Add(10*time.Minute), 5*time.Minute) {
		t.Error("Verify accepted a stale timestamp")
	}
}

func TestValidateEndpoint(t *testing.T) {
	for name, c := range map[string]struct {
		url          string
		events       []string
		allowPrivate bool
		want         error
	}{
		"OK":                {"https://erp.example.com/hooks", []string{"order.paid"}, false, nil},
		"ErrHTTP":           {"http://erp.example.com/hooks", []string{"order.paid"}, false, webhooks.ErrURL},
		"HTTPWhenAllowed":   {"http://127.0.0.1:9/x", []string{"order.paid"}, true, nil},
		"ErrLoopback":       {"https://127.0.0.1/x", []string{"order.paid"}, false, webhooks.ErrURLPrivate},
		"ErrLocalhost":      {"https://localhost/x", []string{"order.paid"}, false, webhooks.ErrURLPrivate},
		"ErrPrivate10":      {"https://10.1.2.3/x", []string{"order.paid"}, false, webhooks.ErrURLPrivate},
		"ErrMetadata":       {"https://169.254.169.254/latest", []string{"order.paid"}, false, webhooks.ErrURLPrivate},
		"ErrIPv6Loopback":   {"https://[::1]/x", []string{"order.paid"}, false, webhooks.ErrURLPrivate},
		"ErrMappedLoopback": {"https://[::ffff:127.0.0.1]/x", []string{"order.paid"}, false, webhooks.ErrURLPrivate},
		"ErrUserinfo":       {"https://user:pw@erp.example.com/", []string{"order.paid"}, false, webhooks.ErrURL},
		"ErrNoEvents":       {"https://erp.example.com/", nil, false, webhooks.ErrEvents},
		"ErrUnknownEvent":   {"https://erp.example.com/", []string{"order.eaten"}, false, webhooks.ErrEvents},
	} {
		t.Run(name, func(t *testing.T) {
			e := &webhooks.Endpoint{URL: c.url, Events: c.events}
			if err := e.Validate(c.allowPrivate); !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("Validate = %v, want %v", err, c.want)
			}
		})
	}
}

// The schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each
// failure, and nothing after the last one.
func TestNextAttempt(t *testing.T) {
	first := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := first
	var gaps []time.Duration
	for n := 1; ; n++ {
		next, ok := webhooks.NextAttempt(first, n, at)
		if !ok {
			break
		}
		gaps = append(gaps, next.Sub(at))
		at = next
	}
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if len(gaps) != len(want) {
		t.Fatalf("gaps = %v, want %v", gaps, want)
	}
	for i := range want {
		if gaps[i] != want[i] {
			t.Fatalf("gap %d = %v, want %v", i+1, gaps[i], want[i])
		}
	}
	if total := at.Sub(first); total < 24*time.Hour || total > 28*time.Hour {
		t.Fatalf("last attempt %v after the first, want 24–28 h", total)
	}
}

// The guarded client refuses a real server on loopback (where an attacker
// would aim: the admin API, the cloud metadata service) at connect time.
func TestGuardedClientRefusesLoopback(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	_, err := webhooks.GuardedClient(false, 2*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err == nil || hit {
		t.Fatalf("guarded client reached %s (err %v)", srv.URL, err)
	}
	// A name that resolves to loopback is refused too (DNS cannot smuggle it in).
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if _, err := webhooks.GuardedClient(false, 2*time.Second).Post(u, "application/json", strings.NewReader("{}")); err == nil || hit {
		t.Fatalf("guarded client reached %s by name", u)
	}
	resp, err := webhooks.GuardedClient(true, 2*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil || !hit {
		t.Fatalf("allowed client: %v", err)
	}
	resp.Body.Close()
}

// receiver is a real HTTP endpoint that verifies each message like a
// Standard Webhooks library (against the test's clock) and fails the
// first `fail` attempts.
type receiver struct {
	mu       sync.Mutex
	secret   string
	now      func() time.Time
	fail     int
	attempts []string // webhook-id per attempt
	verified int
	bad      int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, req.Header.Get("webhook-id"))
	if !webhooks.Verify(r.secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body, r.now(), 5*time.Minute) {
		r.bad++
		w.WriteHeader(401)
		return
	}
	var msg struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Type != "order.paid" {
		r.bad++
		w.WriteHeader(400)
		return
	}
	if len(r.attempts) <= r.fail {
		w.WriteHeader(503)
		return
	}
	r.verified++
	w.WriteHeader(204)
}

// TestDispatcherRetriesUntilDelivered runs the dispatcher against a real
// receiver that fails twice: the message is retried on the schedule (one
// clock, moved by the test, for the database, the dispatcher and the
// receiver), never before it is due, with the same webhook-id and a valid
// fresh signature each time, and recorded as delivered once.
func TestDispatcherRetriesUntilDelivered(t *testing.T) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	db.Now = now
	m := &identity.Merchant{Slug: "farm", Name: "Farm"}
	if err := (&sqldb.IdentityStore{DB: db}).CreateMerchant(ctx, m); err != nil {
		t.Fatal(err)
	}
	rcv := &receiver{secret: webhooks.NewSecret(), fail: 2, now: now}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	store := &sqldb.WebhookStore{DB: db}
	ep := &webhooks.Endpoint{MerchantID: m.ID, URL: srv.URL + "/hook", Events: []string{"order.paid"}, Secret: rcv.secret}
	if err := ep.Validate(true); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	body, _ := webhooks.Message("order.paid", now(), map[string]any{"order_id": 7})
	if _, err := store.Enqueue(ctx, m.ID, "order.paid", "order.paid:7", body, 0); err != nil {
		t.Fatal(err)
	}
	d := &webhooks.Dispatcher{Store: store, Client: webhooks.GuardedClient(true, 5*time.Second), Logger: slog.New(slog.DiscardHandler), Now: now}
	for attempt, gap := range []time.Duration{0, webhooks.Schedule[0], webhooks.Schedule[1]} {
		if gap > 0 {
			advance(gap - time.Second)
			if n := d.Pass(ctx); n != 0 {
				t.Fatalf("attempt %d: sent %d a second before it was due", attempt+1, n)
			}
			advance(time.Second)
		}
		if n := d.Pass(ctx); n != 1 {
			t.Fatalf("attempt %d: sent %d, want 1", attempt+1, n)
		}
	}
	list, _ := store.Deliveries(ctx, m.ID, ep.ID, 10)
	if len(list) != 1 || list[0].Status != webhooks.Delivered || list[0].Attempts != 3 || list[0].LastStatus != 204 {
		t.Fatalf("delivery after 3 attempts: %+v", list)
	}
	advance(24 * time.Hour)
	if n := d.Pass(ctx); n != 0 {
		t.Fatalf("a delivered message was sent again (%d)", n)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.attempts) != 3 || rcv.attempts[0] != rcv.attempts[2] || !strings.HasPrefix(rcv.attempts[0], "msg_") || rcv.bad != 0 || rcv.verified != 1 {
		t.Fatalf("receiver saw %v (bad %d, verified %d): want 3 attempts of one message id, all signed right", rcv.attempts, rcv.bad, rcv.verified)
	}
}
