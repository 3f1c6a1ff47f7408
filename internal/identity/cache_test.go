package identity_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// A login remembers its new session: the buyer's next request is served
// from the cache (here: even after the session was revoked behind the
// service's back, as another node would), and only for cacheTTL.
func TestLoginCachesItsSession(t *testing.T) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &sqldb.IdentityStore{DB: db}
	m := &identity.Merchant{Slug: "shop", Name: "店"}
	if err := store.CreateMerchant(ctx, m); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	svc := &identity.Service{Store: store, SMS: identity.DevSMS{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, DevOTP: true,
		SessionTTL: time.Hour, Now: func() time.Time { return now }}
	code, err := svc.RequestOTP(ctx, m.ID, "13800001234")
	if err != nil {
		t.Fatal(err)
	}
	_, token, sess, err := svc.VerifyOTP(ctx, m.ID, "13800001234", code)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RevokeSession(ctx, m.ID, sess.ID); err != nil { // not through svc: its cache does not hear of it
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, token)
	if err != nil || p.SessionID != sess.ID || p.Kind != identity.KindCustomer || p.Name != "用户1234" {
		t.Fatalf("right after login: %+v %v, want the cached principal", p, err)
	}
	now = now.Add(6 * time.Second) // past cacheTTL: the store is asked, and says revoked
	if _, err := svc.Authenticate(ctx, token); err == nil {
		t.Fatal("a revoked session still authenticates after the cache expired")
	}
}

// KeepWarm's round re-reads cached sessions before their trust runs out: a
// session revoked behind the service's back leaves the cache at the next
// round, one still valid stays trusted a cache time past that round — and
// no longer.
func TestRefreshCacheRereadsSessions(t *testing.T) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &sqldb.IdentityStore{DB: db}
	m := &identity.Merchant{Slug: "shop", Name: "店"}
	if err := store.CreateMerchant(ctx, m); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	svc := &identity.Service{Store: store, SMS: identity.DevSMS{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, DevOTP: true,
		SessionTTL: time.Hour, Now: func() time.Time { return now }}
	login := func(phone string) (string, *identity.Session) {
		code, err := svc.RequestOTP(ctx, m.ID, phone)
		if err != nil {
			t.Fatal(err)
		}
		_, token, sess, err := svc.VerifyOTP(ctx, m.ID, phone, code)
		if err != nil {
			t.Fatal(err)
		}
		return token, sess
	}
	tokA, sessA := login("13800001234")
	tokB, sessB := login("13800005678")
	now = now.Add(4 * time.Second) // within a quarter of a cache time of expiring
	if err := store.RevokeSession(ctx, m.ID, sessB.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.RefreshCache(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tokB); err == nil {
		t.Fatal("a session revoked in the database is still trusted after the refresh round")
	}
	now = now.Add(4 * time.Second) // 8 s after login: past the login's own 5 s, within the refresh's
	if err := store.RevokeSession(ctx, m.ID, sessA.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := svc.Authenticate(ctx, tokA); err != nil || p.SessionID != sessA.ID {
		t.Fatalf("refreshed session: %+v %v, want it served from the cache", p, err)
	}
	now = now.Add(2 * time.Second) // past the refresh's cache time: the store says revoked
	if _, err := svc.Authenticate(ctx, tokA); err == nil {
		t.Fatal("a session is trusted longer than a cache time after the database last confirmed it")
	}
}
