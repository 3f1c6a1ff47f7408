package app

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/household"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/notify"
)

// LinkDevice links a fridge or pantry to the viewer's account once they
// consented; the token is shown once and kept only as a hash.
func (a *App) LinkDevice(ctx context.Context, p *identity.Principal, name, kind string, consent bool) (*household.Device, string, error) {
	d := &household.Device{MerchantID: p.MerchantID, CustomerID: p.SubjectID, Name: name, Kind: kind}
	if err := household.CheckDevice(d, consent); err != nil {
		return nil, "", err
	}
	token, hash := identity.NewToken()
	if err := a.Household.LinkDevice(ctx, d, hash); err != nil {
		return nil, "", err
	}
	return d, token, nil
}

// IngestHousehold takes a device's batch of readings.
func (a *App) IngestHousehold(ctx context.Context, token string, rs []household.Reading) ([]household.Estimate, error) {
	if err := household.CheckReadings(rs, a.Now()); err != nil {
		return nil, err
	}
	return a.Household.Ingest(ctx, identity.HashToken(token), rs)
}

// householdDue sends the pushes that are due (leader only, every 30 s,
// never in the install's quiet hours: a nudge at 23:00 waits for morning).
func (a *App) householdDue(ctx context.Context) {
	if a.Household == nil || a.Now().Sub(a.lastHousehold) < 30*time.Second {
		return
	}
	a.lastHousehold = a.Now()
	quiet := notify.DefaultQuiet
	if a.Channels != nil {
		quiet = a.Channels.Quiet
	}
	if now := a.Now(); !quiet.NotBefore(now).Equal(now) {
		return
	}
	pushes, err := a.Household.SendDue(ctx, a.Now(), 1000)
	if err != nil {
		a.Logger.Error("household pushes", "err", err)
		return
	}
	if len(pushes) > 0 {
		a.Logger.Info("household pushes sent", "pushes", len(pushes))
	}
}
