package sqldb_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// TestContractWebhooks: the outbox queues an event once per endpoint that
// wants it, a claimed delivery is not handed out twice, a failure streak
// disables the endpoint and fails its pending deliveries, and another
// merchant sees none of it.
func TestContractWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		box, err := secretbox.New("0123456789abcdef0123456789abcdef-test")
		must(t, err)
		wh := &sqldb.WebhookStore{DB: db, Box: box}
		paid := &webhooks.Endpoint{MerchantID: s.m, URL: "https://erp.example.com/hook", Events: []string{"order.paid"}, Secret: webhooks.NewSecret()}
		all := &webhooks.Endpoint{MerchantID: s.m, URL: "https://wms.example.com/hook", Events: []string{"order.paid", "lot.held"}, Secret: webhooks.NewSecret()}
		must(t, wh.CreateEndpoint(ctx, paid))
		must(t, wh.CreateEndpoint(ctx, all))

		// The signing secret is sealed in the row and plain when read.
		var stored string
		must(t, db.ReadDB().QueryRow(`SELECT secret FROM webhook_endpoints WHERE id = `+strconv.FormatInt(paid.ID, 10)).Scan(&stored))
		if strings.Contains(stored, paid.Secret[6:]) || stored == paid.Secret {
			t.Fatalf("secret stored in the clear: %q", stored)
		}
		if got, _ := wh.Endpoint(ctx, s.m, paid.ID); got.Secret != paid.Secret {
			t.Fatalf("secret read back %q, want %q", got.Secret, paid.Secret)
		}
		n, err := wh.Enqueue(ctx, s.m, "order.paid", "order.paid:1", []byte(`{"type":"order.paid"}`), 0)
		must(t, err)
		if n != 2 {
			t.Fatalf("order.paid queued %d deliveries, want 2", n)
		}
		n, err = wh.Enqueue(ctx, s.m, "order.paid", "order.paid:1", []byte(`{"type":"order.paid"}`), 0)
		must(t, err)
		if n != 0 {
			t.Fatalf("the same event again queued %d, want 0", n)
		}
		n, _ = wh.Enqueue(ctx, s.m, "lot.held", "lot.held:7:1", []byte(`{}`), 0)
		if n != 1 {
			t.Fatalf("lot.held queued %d, want 1 (only the endpoint that wants it)", n)
		}
		if n, _ := wh.Enqueue(ctx, s.other, "order.paid", "order.paid:1", []byte(`{}`), 0); n != 0 {
			t.Fatalf("another merchant's event reached our endpoints: %d", n)
		}

		due, err := wh.Due(ctx, 10)
		must(t, err)
		if len(due) != 3 {
			t.Fatalf("due = %d, want 3", len(due))
		}
		if again, _ := wh.Due(ctx, 10); len(again) != 0 {
			t.Fatalf("claimed deliveries handed out again: %d", len(again))
		}
		if due[0].Secret == "" || due[0].URL == "" {
			t.Fatal("a due delivery lacks its URL or secret")
		}

		// The other tenant can neither list nor replay our deliveries.
		if _, err := wh.Endpoint(ctx, s.other, paid.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("other tenant read our endpoint: %v", err)
		}
		if _, err := wh.Replay(ctx, s.other, due[0].ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("other tenant replayed our delivery: %v", err)
		}

		// A pending delivery cannot be replayed; a finished one can, same message id.
		if _, err := wh.Replay(ctx, s.m, due[0].ID); !errors.Is(err, webhooks.ErrNotReplay) {
			t.Fatalf("replay of a pending delivery: %v", err)
		}
		d := due[0].Delivery
		d.Status, d.Attempts, d.LastStatus = webhooks.Delivered, 1, 204
		if off, err := wh.Finish(ctx, &d, false); err != nil || off {
			t.Fatalf("finish delivered: %v %v", off, err)
		}
		r, err := wh.Replay(ctx, s.m, d.ID)
		must(t, err)
		if r.MessageID != d.MessageID || r.Status != webhooks.Pending {
			t.Fatalf("replay = %+v", r)
		}

		// DisableAfter deliveries failed for good in a row switch the endpoint off.
		var disabledAt int
		for i := 1; i <= webhooks.DisableAfter; i++ {
			key := "order.paid:" + string(rune('a'+i))
			if _, err := wh.Enqueue(ctx, s.m, "order.paid", key, []byte(`{}`), paid.ID); err != nil {
				t.Fatal(err)
			}
			list, _ := wh.Deliveries(ctx, s.m, paid.ID, 1)
			f := list[0]
			f.Status, f.Attempts, f.LastStatus = webhooks.Failed, len(webhooks.Schedule)+1, 500
			off, err := wh.Finish(ctx, &f, true)
			must(t, err)
			if off {
				disabledAt = i
			}
		}
		if disabledAt != webhooks.DisableAfter {
			t.Fatalf("endpoint disabled after %d failures, want %d", disabledAt, webhooks.DisableAfter)
		}
		ep, err := wh.Endpoint(ctx, s.m, paid.ID)
		must(t, err)
		if ep.Enabled || ep.DisabledReason == "" {
			t.Fatalf("endpoint after the streak: %+v", ep)
		}
		if n, _ := wh.Enqueue(ctx, s.m, "order.paid", "order.paid:later", []byte(`{}`), 0); n != 1 {
			t.Fatalf("a disabled endpoint still gets events: queued %d, want 1 (the other endpoint)", n)
		}
		list, _ := wh.Deliveries(ctx, s.m, paid.ID, 50)
		for _, d := range list {
			if d.Status == webhooks.Pending {
				t.Fatalf("a disabled endpoint kept a pending delivery: %+v", d)
			}
		}
		// Enabling again clears the streak.
		ep.Enabled = true
		must(t, wh.UpdateEndpoint(ctx, ep))
		if ep.Failures != 0 || ep.DisabledReason != "" {
			t.Fatalf("re-enabled endpoint kept its streak: %+v", ep)
		}

		// Endpoint limit per merchant.
		for i := 2; i < webhooks.MaxEndpoints; i++ {
			must(t, wh.CreateEndpoint(ctx, &webhooks.Endpoint{MerchantID: s.m, URL: "https://x.example.com/", Events: []string{"room.started"}, Secret: webhooks.NewSecret()}))
		}
		if err := wh.CreateEndpoint(ctx, &webhooks.Endpoint{MerchantID: s.m, URL: "https://x.example.com/", Events: []string{"room.started"}, Secret: webhooks.NewSecret()}); !errors.Is(err, webhooks.ErrTooMany) {
			t.Fatalf("endpoint %d: %v, want ErrTooMany", webhooks.MaxEndpoints+1, err)
		}
		must(t, wh.DeleteEndpoint(ctx, s.m, all.ID))
		if _, err := wh.Endpoint(ctx, s.m, all.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("deleted endpoint still there: %v", err)
		}
	})
}
