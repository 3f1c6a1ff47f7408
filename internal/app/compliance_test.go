package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/stores"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestOverrideAuditedAfterSave: an owner's override is audited only once
// the action it let through is saved. A save that fails after the gate
// accepted the override (here: a coupon scoped to an unknown store, a live
// room's lineup naming an unknown product) leaves no override in the log;
// the same action saved is audited exactly once.
func TestOverrideAuditedAfterSave(t *testing.T) {
	m := testkit.StartNode(t, "")
	ctx := context.Background()
	owner := &identity.Principal{Kind: identity.KindToken, MerchantID: 1, Role: identity.RoleOwner, Name: "owner"}
	ov := &app.Override{Reason: "法务已确认"}
	audited := func(t *testing.T, action string) int {
		t.Helper()
		log, err := m.App.AuditLog(ctx, 1, 500)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range log {
			if e.Action == action {
				n++
			}
		}
		return n
	}

	t.Run("Coupon", func(t *testing.T) {
		in := app.CouponInput{Kind: coupons.Fixed, Title: "全网最低价 国家级好券", Room: "demo", AmountFen: 500, BudgetCount: 10,
			Scope: coupons.Scope{StoreIDs: []int64{9999}}, Override: ov}
		if _, err := m.App.CreateCoupon(ctx, owner, in); !errors.Is(err, stores.ErrUnknownStore) {
			t.Fatalf("a coupon scoped to an unknown store: %v, want unknown_store", err)
		}
		if n := audited(t, "coupon.create.override"); n != 0 {
			t.Fatalf("%d coupon.create.override entries for a coupon never created", n)
		}
		in.Scope = coupons.Scope{}
		if _, err := m.App.CreateCoupon(ctx, owner, in); err != nil {
			t.Fatal(err)
		}
		if n := audited(t, "coupon.create.override"); n != 1 {
			t.Fatalf("%d coupon.create.override entries, want 1", n)
		}
	})

	t.Run("LiveRoomEdit", func(t *testing.T) {
		if _, err := m.App.CreateRoom(ctx, owner, &live.Room{Slug: "gate-live", Title: "周末蔬菜直播"}, nil); err != nil {
			t.Fatal(err)
		}
		old, err := m.App.Live.RoomBySlug(ctx, "gate-live")
		if err != nil {
			t.Fatal(err)
		}
		if old, err = m.App.SetRoomStatus(ctx, owner, old, live.Live, nil); err != nil {
			t.Fatal(err)
		}
		next := *old
		next.Title = "国家级好菜"
		if _, err := m.App.UpdateRoom(ctx, owner, old, &next, []int64{99999}, ov); !errors.Is(err, catalog.ErrUnknownProduct) {
			t.Fatalf("a lineup with an unknown product: %v, want unknown_product", err)
		}
		if n := audited(t, "room.edit.override"); n != 0 {
			t.Fatalf("%d room.edit.override entries for an edit never saved", n)
		}
		if _, err := m.App.UpdateRoom(ctx, owner, old, &next, nil, ov); err != nil {
			t.Fatal(err)
		}
		if n := audited(t, "room.edit.override"); n != 1 {
			t.Fatalf("%d room.edit.override entries, want 1", n)
		}
	})
}
