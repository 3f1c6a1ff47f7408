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
