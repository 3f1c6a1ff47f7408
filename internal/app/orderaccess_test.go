package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStaffStoreOutage: a store that is not the merchant's is not found; a
// database failure while looking it up is not "no such store".
func TestStaffStoreOutage(t *testing.T) {
	m := testkit.StartNode(t, "")
	ctx := context.Background()
	owner := &identity.Principal{Kind: identity.KindToken, MerchantID: 1, Role: identity.RoleOwner, Name: "owner"}
	if _, err := m.App.StaffStore(ctx, owner, 1); err != nil {
		t.Fatalf("the merchant's own store: %v", err)
	}
	if _, err := m.App.StaffStore(ctx, owner, 9999); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("no such store: %v, want not found", err)
	}
	if err := m.DB.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `ALTER TABLE stores RENAME TO stores_away`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.App.StaffStore(ctx, owner, 1); err == nil || errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("an outage answered %v: it must not read as not found", err)
	}
}
