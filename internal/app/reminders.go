package app

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/notify"
)

// Subscribe (预约) asks for reminders of a live that has not started yet.
func (a *App) Subscribe(ctx context.Context, p *identity.Principal, room *live.Room) (int64, error) {
	if room.MerchantID != p.MerchantID {
		return 0, apperr.ErrNotFound // a viewer account belongs to one shop
	}
	if room.Status != live.Scheduled {
		return 0, notify.ErrNotScheduled
	}
	if err := a.Reminders.Subscribe(ctx, p.MerchantID, room.ID, p.SubjectID); err != nil {
		return 0, err
	}
	return a.Reminders.Subscribers(ctx, p.MerchantID, room.ID)
}

// remindDue writes due reminders (leader only, every few seconds): the
// inbox key makes each one exactly once however often this runs, on
// whichever node, also after a failover.
func (a *App) remindDue(ctx context.Context) {
	if a.Reminders == nil {
		return
	}
	now := a.Now()
	if n, err := a.Reminders.RemindSoon(ctx, now, notify.Lead); err != nil {
		a.Logger.Error("reminders: soon", "err", err)
	} else if n > 0 {
		a.Logger.Info("reminders sent", "kind", notify.KindSoon, "messages", n)
		a.Channels.Wake()
	}
	if n, err := a.Reminders.RemindStarted(ctx, now, now.Add(-10*time.Minute)); err != nil {
		a.Logger.Error("reminders: started", "err", err)
	} else if n > 0 {
		a.Logger.Info("reminders sent", "kind", notify.KindStarted, "messages", n)
		a.Channels.Wake()
	}
}
