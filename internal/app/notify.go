package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/notify/webpush"
)

// Channels delivers reminders beyond the inbox: Web Push and SMS. Nil
// fields switch a channel off (its deliveries wait).
type Channels struct {
	Store notify.Channels
	Push  *webpush.Client
	// SMS sends one reminder text (the install's reminder template); nil
	// without a provider or template.
	SMS func(ctx context.Context, phone, text string) error
	// OptOutKey signs the one-tap opt-out links.
	OptOutKey []byte
	// Workers send at once (default 32).
	Workers int
	// Quiet are the hours nothing is sent (notify.DefaultQuiet).
	Quiet notify.Quiet
	// WeChat sends subscribe and template messages; nil: those wait.
	WeChat *WeChatReminders

	wake chan struct{}
	once sync.Once
}

func (c *Channels) init() {
	c.once.Do(func() { c.wake = make(chan struct{}, 1) })
}

// Wake asks the sender to look for due deliveries now.
func (c *Channels) Wake() {
	if c == nil {
		return
	}
	c.init()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// startChannels runs the sender on this node while it leads.
func (a *App) startChannels(ctx context.Context) {
	c := a.Channels
	if c == nil || c.Store == nil {
		return
	}
	c.init()
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-c.wake:
			}
			if a.IsLeader() {
				if _, err := a.SendDeliveries(ctx); err != nil && ctx.Err() == nil {
					a.Logger.Error("reminder channels", "err", err)
				}
			}
		}
	}()
}

// claimLease is how long a claimed delivery is left alone by other senders.
const claimLease = time.Minute

// SendDeliveries sends due pushes and texts until none is due (or a
// minute has passed) and returns how many went out. Batches of 500 are
// claimed, sent by the workers and recorded as a pipeline: the next batch
// is claimed once the workers have taken the last of the current one, and
// a batch's results are written (one transaction) while the next sends,
// so the workers do not idle at batch boundaries.
func (a *App) SendDeliveries(ctx context.Context) (int, error) {
	c := a.Channels
	workers := c.Workers
	if workers <= 0 {
		workers = 32
	}
	if now := a.Now(); !c.Quiet.NotBefore(now).Equal(now) {
		return 0, nil // quiet hours: pushes and texts wait for the morning
	}
	type batch struct {
		ds      []notify.Delivery
		results []notify.Result
		left    atomic.Int32
	}
	type job struct {
		b *batch
		i int
	}
	jobs := make(chan job)
	done := make(chan *batch, 4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.b.results[j.i] = a.deliver(ctx, &j.b.ds[j.i])
				if j.b.left.Add(-1) == 0 {
					done <- j.b
				}
			}
		}()
	}
	var sent atomic.Int64
	var finishErr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for b := range done {
			for _, r := range b.results {
				if r.Sent {
					sent.Add(1)
				}
			}
			if finishErr != nil {
				continue
			}
			if err := c.Store.FinishDeliveries(ctx, a.Now(), b.results); err != nil {
				finishErr = err
			}
		}
	}()
	var claimErr error
	deadline := a.Now().Add(time.Minute)
	for a.Now().Before(deadline) && ctx.Err() == nil {
		ds, err := c.Store.ClaimDeliveries(ctx, a.Now(), claimLease, 500)
		if err != nil || len(ds) == 0 {
			claimErr = err
			break
		}
		b := &batch{ds: ds, results: make([]notify.Result, len(ds))}
		b.left.Store(int32(len(ds)))
		for i := range ds {
			jobs <- job{b, i}
		}
	}
	close(jobs)
	wg.Wait()
	close(done)
	<-finished
	if claimErr != nil {
		return int(sent.Load()), claimErr
	}
	return int(sent.Load()), finishErr
}

// pushPayload is what the service worker shows.
type pushPayload struct {
	Title  string `json:"title"`
	Body   string `json:"body"`
	BodyEN string `json:"body_en,omitempty"`
	URL    string `json:"url"`
	Tag    string `json:"tag"`
	OptOut string `json:"opt_out"` // one tap: no more pushes
}

// deliver sends one delivery; a channel that is off waits (retry later).
func (a *App) deliver(ctx context.Context, d *notify.Delivery) notify.Result {
	c := a.Channels
	r := notify.Result{InboxID: d.InboxID, Channel: d.Channel}
	retry := func(err error) notify.Result {
		r.Error = err.Error()
		if d.Attempts < 5 {
			r.Retry = c.Quiet.NotBefore(a.Now().Add(time.Duration(1<<d.Attempts) * 30 * time.Second))
		}
		return r
	}
	tag := "room-" + strconv.FormatInt(d.Message.RoomID, 10) + "-" + d.Message.Kind
	optOut := "/notify/off/" + notify.OptOutToken(c.OptOutKey, d.MerchantID, d.CustomerID, d.Channel)
	switch d.Channel {
	case notify.ChannelPush:
		if c.Push == nil {
			return retry(errors.New("web push is not configured"))
		}
		body, _ := json.Marshal(pushPayload{Title: d.Message.Title, Body: d.Message.Body, BodyEN: d.Message.BodyEN, URL: d.Message.URL, Tag: tag, OptOut: optOut})
		ttl, urgency := 15*time.Minute, "normal"
		if d.Message.Kind == notify.KindStarted {
			ttl, urgency = 10*time.Minute, "high"
		}
		var last error
		gone := 0
		for _, s := range d.Subs {
			err := c.Push.Send(ctx, webpush.Subscription{Endpoint: s.Endpoint, P256DH: s.P256DH, Auth: s.Auth},
				webpush.Message{Payload: body, TTL: ttl, Topic: topic(d.InboxID), Urgency: urgency})
			switch {
			case err == nil:
				r.Sent = true
			case errors.Is(err, webpush.ErrGone):
				gone++
				if err := c.Store.RemovePushEndpoint(ctx, s.Endpoint); err != nil {
					a.Logger.Error("web push: remove gone subscription", "err", err)
				}
			default:
				last = err
			}
		}
		if r.Sent {
			return r
		}
		if last == nil {
			r.Error = fmt.Sprintf("no browser left (%d gone)", gone)
			return r // final: nothing to send to
		}
		return retry(last)
	case notify.ChannelSMS:
		if c.SMS == nil {
			return retry(errors.New("sms reminders are not configured"))
		}
		if d.Phone == "" || len(d.Phone) != 11 {
			r.Error = "no phone"
			return r
		}
		if err := c.SMS(ctx, d.Phone, d.Message.Title); err != nil {
			return retry(err)
		}
		r.Sent = true
		return r
	case notify.ChannelWxSub, notify.ChannelWxTpl:
		return a.deliverWeChat(ctx, d, r, retry)
	}
	r.Error = "unknown channel"
	return r
}

// topic names a push so that a resend replaces an undelivered copy (RFC
// 8030 §5.4: at most 32 URL-safe base64 characters).
func topic(inboxID int64) string { return "sl-" + strconv.FormatInt(inboxID, 36) }
