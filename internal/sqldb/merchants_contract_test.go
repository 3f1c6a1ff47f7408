package sqldb_test

import (
	"context"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractMerchants: a merchant and its owner are created together or
// not at all; disabling closes the merchant and revokes its sessions only.
func TestContractMerchants(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ids := &sqldb.IdentityStore{DB: db}
		if n, err := ids.CountMerchants(ctx); err != nil || n != 0 {
			t.Fatalf("fresh database: %d merchants, %v", n, err)
		}
		a := &identity.Merchant{Slug: "alpha", Name: "甲"}
		if err := ids.CreateMerchantOwner(ctx, a, &identity.Staff{Username: "boss", Name: "老板", Role: identity.RoleOwner, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		// The login is taken: the second merchant must not be left without an owner.
		err := ids.CreateMerchantOwner(ctx, &identity.Merchant{Slug: "beta", Name: "乙"}, &identity.Staff{Username: "boss", Name: "x", Role: identity.RoleOwner, PasswordHash: "x"})
		if !apperr.Is(err, "conflict") {
			t.Fatalf("taken login: %v, want conflict", err)
		}
		if _, err := ids.MerchantBySlug(ctx, "beta"); !apperr.Is(err, "not_found") {
			t.Fatalf("merchant of the failed create: %v, want not found", err)
		}
		b := &identity.Merchant{Slug: "beta", Name: "乙"}
		if err := ids.CreateMerchantOwner(ctx, b, &identity.Staff{Username: "boss-b", Name: "乙老板", Role: identity.RoleOwner, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		owner, err := ids.StaffByLogin(ctx, "boss")
		if err != nil || owner.MerchantID != a.ID || owner.Role != identity.RoleOwner {
			t.Fatalf("owner: %+v %v", owner, err)
		}
		sess := func(m int64, hash string) {
			if err := ids.CreateSession(ctx, &identity.Session{TokenHash: hash, Kind: identity.KindStaff, MerchantID: m, SubjectID: 1, Role: identity.RoleOwner, CreatedAt: db.Now(), ExpiresAt: db.Now().AddDate(0, 0, 1)}); err != nil {
				t.Fatal(err)
			}
		}
		sess(a.ID, "ha")
		sess(b.ID, "hb")
		if err := ids.DisableMerchant(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		se, _, _, err := ids.SessionSubject(ctx, "ha")
		if err != nil || !se.MerchantDisabled || se.RevokedAt == nil {
			t.Fatalf("session of the disabled merchant: %+v %v", se, err)
		}
		se, _, _, err = ids.SessionSubject(ctx, "hb")
		if err != nil || se.MerchantDisabled || se.RevokedAt != nil {
			t.Fatalf("session of the other merchant: %+v %v", se, err)
		}
		list, err := ids.ListMerchants(ctx)
		if err != nil || len(list) != 2 || !list[0].Disabled || list[1].Disabled || list[0].CreatedAt.IsZero() {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := ids.DisableMerchant(ctx, 999); !apperr.Is(err, "not_found") {
			t.Fatalf("unknown merchant: %v", err)
		}
	})
}
