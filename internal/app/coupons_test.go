package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/flashsale"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestCouponRoomOutage: a coupon's room that does not exist is bad input
// (400 coupon_room_required); a database failure while reading it is an
// outage (500), for the coupon's creation and for a store's host reaching
// a coupon of their studio, listing their store's coupons or its cost,
// giving one as a draw's prize, drawing their room's draw or ending its
// flash sale.
func TestCouponRoomOutage(t *testing.T) {
	m := testkit.StartNode(t, "")
	ctx := context.Background()
	owner := &identity.Principal{Kind: identity.KindToken, MerchantID: 1, Role: identity.RoleOwner, Name: "owner"}
	host := &identity.Principal{Kind: identity.KindStaff, MerchantID: 1, Role: identity.RoleHost, Name: "host", StoreID: 1}
	in := app.CouponInput{Kind: coupons.Fixed, Title: "本店直播立减2元", AmountFen: 200, BudgetCount: 10}

	in.Room = "no-such-room"
	_, err := m.App.CreateCoupon(ctx, owner, in)
	if !errors.Is(err, coupons.ErrUnknownRoom) || apperr.As(err).Kind != apperr.Invalid {
		t.Fatalf("no such room: %v, want 400 coupon_room_required", err)
	}
	room := &live.Room{Slug: "store-1-live", Title: "门店直播", StoreID: 1}
	if _, err := m.App.CreateRoom(ctx, owner, room, nil); err != nil {
		t.Fatal(err)
	}
	in.Room = "store-1-live"
	c, err := m.App.CreateCoupon(ctx, host, in)
	if err != nil {
		t.Fatal(err)
	}
	// The host reaches their studio's coupon (the empty key is the next refusal).
	if _, err := m.App.IssueCouponToSegment(ctx, host, c.ID, members.Segment{}, ""); !errors.Is(err, order.ErrIdempotencyKey) {
		t.Fatalf("the host's own coupon: %v", err)
	}
	if got, err := m.App.StaffCoupon(ctx, host, c.ID); err != nil || got.ID != c.ID {
		t.Fatalf("the host reads their own coupon: %v, %v", got, err)
	}
	if list, err := m.App.StaffCoupons(ctx, host, 0); err != nil || len(list) != 1 {
		t.Fatalf("the host lists %v, %v; want their coupon", list, err)
	}

	d, err := m.App.CreateDraw(ctx, host, room, app.DrawInput{Title: "门店福袋", Entry: draws.ByLike, Winners: 1, PrizeKind: draws.PrizeCoupon, PrizeCouponID: c.ID, Minutes: 30})
	if err != nil {
		t.Fatal(err)
	}

	sale, err := m.App.CreateFlashSale(ctx, owner, &flashsale.Sale{RoomID: room.ID, ProductID: 1, SKUID: 1, StoreID: 1, PriceFen: 2990, Quantity: 1, PerUserLimit: 1, EndsAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	if err := m.DB.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `ALTER TABLE rooms RENAME TO rooms_away`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	outage := func(what string, err error) {
		t.Helper()
		if err == nil || apperr.As(err).Kind != apperr.Internal {
			t.Fatalf("%s in an outage answered %v, want an internal error (500)", what, err)
		}
	}
	_, err = m.App.CreateCoupon(ctx, owner, in)
	outage("creating a coupon", err)
	_, err = m.App.IssueCouponToSegment(ctx, host, c.ID, members.Segment{}, "")
	outage("the host's coupon", err)
	// Which coupons are the store's is read from its rooms: an outage there
	// is neither an empty list nor another store's coupon (404).
	_, err = m.App.StaffCoupons(ctx, host, 0)
	outage("the host's coupon list", err)
	_, err = m.App.StaffCoupon(ctx, host, c.ID)
	outage("reading the host's coupon", err)
	_, err = m.App.CouponReport(ctx, host, 0)
	outage("the host's coupon report", err)
	// Nor is the host's prize coupon then unknown (400 draw_prize).
	_, err = m.App.CreateDraw(ctx, host, room, app.DrawInput{Title: "门店福袋", Entry: draws.ByLike, Winners: 1, PrizeKind: draws.PrizeCoupon, PrizeCouponID: c.ID, Minutes: 30})
	outage("a draw with the host's coupon as its prize", err)
	// Nor is the host's own draw then another store's (404).
	_, err = m.App.DrawNow(ctx, host, d.ID)
	outage("drawing the host's draw", err)
	// Nor is the host's flash sale (404).
	outage("ending the host's flash sale", m.App.EndFlashSale(ctx, host, sale.ID))
}
