package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coupons"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestMemberProgramCouponOutage: an exchange offer naming a coupon that is
// not the merchant's is bad input (400 points_offer_invalid); a database
// failure while reading the coupon is an outage (500), not the owner's
// mistake.
func TestMemberProgramCouponOutage(t *testing.T) {
	m := testkit.StartNode(t, "")
	ctx := context.Background()
	owner := &identity.Principal{Kind: identity.KindToken, MerchantID: 1, Role: identity.RoleOwner, Name: "owner"}
	c, err := m.App.CreateCoupon(ctx, owner, app.CouponInput{Kind: coupons.Fixed, Title: "积分兑换立减2元", AmountFen: 200, BudgetCount: 10})
	if err != nil {
		t.Fatal(err)
	}
	prog := members.DefaultProgram()
	prog.Exchange = []members.Offer{{CouponID: c.ID + 1000, Points: 100}}
	if _, err := m.App.SaveMemberProgram(ctx, owner, prog); !errors.Is(err, members.ErrOffer) || apperr.As(err).Kind != apperr.Invalid {
		t.Fatalf("no such coupon: %v, want 400 points_offer_invalid", err)
	}
	prog.Exchange = []members.Offer{{CouponID: c.ID, Points: 100}}
	if got, err := m.App.SaveMemberProgram(ctx, owner, prog); err != nil || len(got.Exchange) != 1 {
		t.Fatalf("the merchant's coupon: %+v, %v", got, err)
	}

	if err := m.DB.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `ALTER TABLE coupons RENAME TO coupons_away`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, err = m.App.SaveMemberProgram(ctx, owner, prog)
	if err == nil || apperr.As(err).Kind != apperr.Internal || errors.Is(err, members.ErrOffer) {
		t.Fatalf("saving the programme in an outage answered %v, want an internal error (500)", err)
	}
}
