package sqldb_test

import (
	"context"
	"testing"
	"time"

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

// TestContractInvites: a link works once and only before it expires; a
// reset sets the password and revokes the account's sessions, a password
// change all but the one kept.
func TestContractInvites(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ids := &sqldb.IdentityStore{DB: db}
		m := &identity.Merchant{Slug: "inv", Name: "店"}
		owner := &identity.Staff{Username: "inv-owner", Name: "店主", Role: identity.RoleOwner, PasswordHash: "old"}
		if err := ids.CreateMerchantOwner(ctx, m, owner); err != nil {
			t.Fatal(err)
		}
		now := db.Now()
		expired := &identity.Invite{MerchantID: m.ID, Kind: identity.InviteJoin, Name: "迟到", Role: identity.RoleHost, CreatedBy: "t", TokenHash: "expired", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
		live := &identity.Invite{MerchantID: m.ID, Kind: identity.InviteJoin, Name: "小王", Role: identity.RoleGuide, CreatedBy: "t", TokenHash: "live", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		reset := &identity.Invite{MerchantID: m.ID, Kind: identity.InviteReset, StaffID: owner.ID, Name: owner.Name, Role: owner.Role, CreatedBy: "t", TokenHash: "reset", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		for _, in := range []*identity.Invite{expired, live, reset} {
			if err := ids.CreateInvite(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ids.AcceptInvite(ctx, "expired", &identity.Staff{Username: "late", PasswordHash: "h"}); err != identity.ErrInviteInvalid {
			t.Fatalf("expired link: %v", err)
		}
		st := &identity.Staff{Username: "wang", PasswordHash: "h"}
		in, err := ids.AcceptInvite(ctx, "live", st)
		if err != nil || st.ID == 0 || st.Role != identity.RoleGuide || st.MerchantID != m.ID || in.UsedAt == nil {
			t.Fatalf("accept: %+v %+v %v", in, st, err)
		}
		if _, err := ids.AcceptInvite(ctx, "live", &identity.Staff{Username: "wang2", PasswordHash: "h"}); err != identity.ErrInviteInvalid {
			t.Fatalf("second use: %v", err)
		}
		sessions := []string{"s1", "s2", "s3"}
		for _, h := range sessions {
			if err := ids.CreateSession(ctx, &identity.Session{TokenHash: h, Kind: identity.KindStaff, MerchantID: m.ID, SubjectID: owner.ID, Role: identity.RoleOwner, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		keep, _, _, _ := ids.SessionSubject(ctx, "s1")
		if err := ids.SetPassword(ctx, m.ID, owner.ID, "newer", keep.ID); err != nil {
			t.Fatal(err)
		}
		for i, h := range sessions {
			se, _, _, _ := ids.SessionSubject(ctx, h)
			if (se.RevokedAt == nil) != (i == 0) {
				t.Fatalf("after a password change, session %s revoked=%v", h, se.RevokedAt != nil)
			}
		}
		if _, err := ids.AcceptInvite(ctx, "reset", &identity.Staff{PasswordHash: "reset-hash"}); err != nil {
			t.Fatal(err)
		}
		se, _, got, _ := ids.SessionSubject(ctx, "s1")
		if se.RevokedAt == nil || got.PasswordHash != "reset-hash" {
			t.Fatalf("after a reset: revoked=%v hash=%q", se.RevokedAt != nil, got.PasswordHash)
		}
	})
}
