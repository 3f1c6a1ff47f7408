package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Dispatcher sends due deliveries. It runs on every node but works only
// while IsLeader says so, so one node sends; a delivery is claimed in the
// database before it is sent (see Store.Due), so a failover can at worst
// send a message twice with the same webhook-id, never lose it.
type Dispatcher struct {
	Store    Store
	Client   *http.Client
	Logger   *slog.Logger
	Now      func() time.Time
	IsLeader func() bool
	// Disabled is told when an endpoint is switched off after failures
	// (the app audits it and tells the admin).
	Disabled func(ctx context.Context, merchantID, endpointID int64)
	// Workers bounds concurrent requests (a slow receiver must not hold the rest).
	Workers int

	kick chan struct{}
	once sync.Once
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.kick = make(chan struct{}, 1)
		if d.Workers <= 0 {
			d.Workers = 8
		}
		if d.Now == nil {
			d.Now = time.Now
		}
	})
}

// Kick asks for a pass now (an event was just queued) instead of at the next tick.
func (d *Dispatcher) Kick() {
	d.init()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends: at once when kicked, else every second.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-d.kick:
		}
		if d.IsLeader != nil && !d.IsLeader() {
			continue
		}
		for d.Pass(ctx) == 50 && ctx.Err() == nil {
		}
	}
}

// Pass sends one batch of due deliveries and returns how many it took.
func (d *Dispatcher) Pass(ctx context.Context) int {
	d.init()
	due, err := d.Store.Due(ctx, 50)
	if err != nil {
		d.Logger.Error("webhooks: due deliveries", "err", err)
		return 0
	}
	sem := make(chan struct{}, d.Workers)
	var wg sync.WaitGroup
	for i := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func(dd *DueDelivery) {
			defer func() { <-sem; wg.Done() }()
			d.send(ctx, dd)
		}(&due[i])
	}
	wg.Wait()
	return len(due)
}

// send makes one attempt and records it.
func (d *Dispatcher) send(ctx context.Context, dd *DueDelivery) {
	now := d.Now()
	status, errText := d.post(ctx, dd, now)
	del := dd.Delivery
	del.Attempts++
	del.LastStatus = status
	del.LastError = errText
	failedForGood := false
	if status >= 200 && status < 300 {
		del.Status = Delivered
	} else if next, ok := NextAttempt(del.FirstAt, del.Attempts, now); ok {
		del.Status, del.NextAt = Pending, next
	} else {
		del.Status, failedForGood = Failed, true
	}
	disabled, err := d.Store.Finish(ctx, &del, failedForGood)
	if err != nil {
		d.Logger.Error("webhooks: record attempt", "delivery", del.ID, "err", err)
		return
	}
	if disabled && d.Disabled != nil {
		d.Disabled(ctx, del.MerchantID, del.EndpointID)
	}
}

// post sends the message signed with a fresh timestamp (the id stays).
func (d *Dispatcher) post(ctx context.Context, dd *DueDelivery, now time.Time) (int, string) {
	body := []byte(dd.Payload)
	sig, err := Sign(dd.Secret, dd.MessageID, now, body)
	if err != nil {
		return 0, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, "POST", dd.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ShelfLive-Webhooks/1")
	req.Header.Set("webhook-id", dd.MessageID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, truncate(err.Error(), 300)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Message builds the body every receiver gets: the Standard Webhooks
// payload shape {"type", "timestamp", "data"}.
func Message(typ string, at time.Time, data any) ([]byte, error) {
	return json.Marshal(map[string]any{"type": typ, "timestamp": at.UTC().Format(time.RFC3339Nano), "data": data})
}
