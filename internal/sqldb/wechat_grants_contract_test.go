package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// TestContractSubscribeGrants: a mini-program subscribe credit (one 允许
// in wx.requestSubscribeMessage, wechat_mini_grants) serves one message.
// Reminders enqueue a subscribe message for viewers with a credit of the
// live_start template and a template message for viewers bound to the
// official account; four senders claiming at once spend each credit on
// exactly one delivery (eight reminders, five credits: five get one, three
// get none); a sent message keeps its credit spent, a retry keeps the
// credit it holds, a give-up returns it, WeChat's refusal (43101) drops
// the viewer's other credits; opting out returns held credits; erase
// deletes them.
func TestContractSubscribeGrants(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		rs := &sqldb.ReminderStore{DB: db, MiniAppID: "wxmini0000000001", MiniTemplate: "TMPL-REMIND"}
		tickets := &sqldb.WeChatTicketStore{DB: db}
		noon := time.Date(2026, 12, 7, 12, 0, 0, 0, cn.Shanghai).UTC()
		db.Now = func() time.Time { return noon }
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			must(t, db.QueryRow(ctx, q, args...).Scan(&n))
			return n
		}
		mini, err := s.ids.UpsertCustomer(ctx, s.m, "13900000201")
		must(t, err)
		oa, err := s.ids.UpsertCustomer(ctx, s.m, "13900000202")
		must(t, err)
		none, err := s.ids.UpsertCustomer(ctx, s.m, "13900000203")
		must(t, err)
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO wechat_mini_logins (merchant_id, appid, openid, customer_id, created_at) VALUES (?, 'wxmini0000000001', 'o-mini-201', ?, 0)`, s.m, mini.ID)
			return err
		}))
		must(t, tickets.BindWeChat(ctx, s.m, "o-oa-202", oa.ID))

		must(t, rs.AddMiniGrants(ctx, s.m, mini.ID, "wxmini0000000001", []string{"TMPL-ORDER"})) // another template's credit: not for reminders
		for range 5 {
			must(t, rs.AddMiniGrants(ctx, s.m, mini.ID, "wxmini0000000001", []string{"TMPL-REMIND"}))
		}
		if p, _ := rs.Prefs(ctx, s.m, mini.ID); p.WxSubGrants != 5 || !p.WxSub || !p.WxTpl || p.WxBound {
			t.Fatalf("prefs %+v", p)
		}
		credits := func() int {
			t.Helper()
			return count(`SELECT credits FROM wechat_mini_grants WHERE customer_id = ? AND template_id = 'TMPL-REMIND'`, mini.ID)
		}
		if p, _ := rs.Prefs(ctx, s.m, oa.ID); !p.WxBound || p.WxSubGrants != 0 {
			t.Fatalf("bound viewer's prefs %+v", p)
		}

		// Eight lives soon, all three viewers subscribed to each.
		for i := range 8 {
			at := noon.Add(time.Duration(5+i) * time.Minute)
			r := &live.Room{MerchantID: s.m, Slug: fmt.Sprintf("grant-%d", i), Title: "草莓季开播", ScheduledAt: &at}
			must(t, s.live.CreateRoom(ctx, r))
			for _, c := range []int64{mini.ID, oa.ID, none.ID} {
				must(t, rs.Subscribe(ctx, s.m, r.ID, c))
			}
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); _, err := rs.RemindSoon(ctx, noon, 15*time.Minute); must(t, err) }()
		}
		wg.Wait()
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE channel = 'wx_sub' AND customer_id = ?`, mini.ID); n != 8 {
			t.Fatalf("subscribe deliveries %d, want 8 (one per live: the viewer had grants)", n)
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE channel = 'wx_tpl'`); n != 8 {
			t.Fatalf("template deliveries %d, want 8 (the bound viewer's)", n)
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE customer_id = ?`, none.ID); n != 0 {
			t.Fatalf("the viewer with no channel got %d deliveries", n)
		}

		// Four senders at once: five grants go to five deliveries, once each.
		var mu sync.Mutex
		var claimed []notify.Delivery
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ds, err := rs.ClaimDeliveries(ctx, noon, time.Minute, 4)
				must(t, err)
				mu.Lock()
				claimed = append(claimed, ds...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		claimed = append(claimed, mustClaim(t, rs, noon)...) // whatever the four left (SQLite: one writer at a time)
		var withGrant, without []notify.Delivery
		seen := map[int64]bool{}
		for _, d := range claimed {
			if seen[d.InboxID] && d.Channel == notify.ChannelWxSub {
				t.Fatalf("delivery %d claimed twice", d.InboxID)
			}
			switch d.Channel {
			case notify.ChannelWxSub:
				seen[d.InboxID] = true
				if d.OpenID != "" {
					if d.OpenID != "o-mini-201" || d.AppID != "wxmini0000000001" || d.TemplateID != "TMPL-REMIND" || d.Slug == "" || !d.StartsAt.After(noon) {
						t.Fatalf("subscribe delivery %+v", d)
					}
					withGrant = append(withGrant, d)
				} else {
					without = append(without, d)
				}
			case notify.ChannelWxTpl:
				if d.OpenID != "o-oa-202" {
					t.Fatalf("template delivery %+v", d)
				}
			}
		}
		if len(withGrant) != 5 || len(without) != 3 {
			t.Fatalf("%d deliveries took a grant, %d none; want 5 and 3", len(withGrant), len(without))
		}
		if n := credits(); n != 0 {
			t.Fatalf("%d credits left, want 0 (five spent)", n)
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE grant_template = 'TMPL-REMIND'`); n != 5 {
			t.Fatalf("%d deliveries hold a credit, want 5", n)
		}
		if n := count(`SELECT credits FROM wechat_mini_grants WHERE customer_id = ? AND template_id = 'TMPL-ORDER'`, mini.ID); n != 1 {
			t.Fatalf("the other template's credit was spent: %d", n)
		}
		// The sender gives up those left without a credit (as app.deliver does): nothing to return.
		var none3 []notify.Result
		for _, d := range without {
			none3 = append(none3, notify.Result{InboxID: d.InboxID, Channel: d.Channel, Error: "no openid"})
		}
		must(t, rs.FinishDeliveries(ctx, noon, none3))
		if n := credits(); n != 0 {
			t.Fatalf("giving up deliveries without a credit made %d credits", n)
		}

		// Results: sent (used for good), retry (keeps its grant), given up
		// (freed), refused (used; the viewer's unused grants dropped).
		sent, retry, gaveUp := withGrant[0], withGrant[1], withGrant[2]
		later := noon.Add(time.Minute)
		must(t, rs.FinishDeliveries(ctx, later, []notify.Result{
			{InboxID: sent.InboxID, Channel: notify.ChannelWxSub, Sent: true},
			{InboxID: retry.InboxID, Channel: notify.ChannelWxSub, Error: "system busy", Retry: noon.Add(3 * time.Minute)},
			{InboxID: gaveUp.InboxID, Channel: notify.ChannelWxSub, Error: "wechat messages are not configured"},
		}))
		if p, _ := rs.Prefs(ctx, s.m, mini.ID); p.WxSubGrants != 1 {
			t.Fatalf("credits %d, want 1 (the one given up came back)", p.WxSubGrants)
		}
		var again notify.Delivery
		all, err := rs.ClaimDeliveries(ctx, noon.Add(4*time.Minute), time.Minute, 50)
		must(t, err)
		for _, d := range all {
			if d.InboxID == retry.InboxID && d.Channel == notify.ChannelWxSub {
				again = d
			}
		}
		if again.OpenID != "o-mini-201" || again.Attempts != 2 {
			t.Fatalf("the retry lost its grant: %+v", again)
		}
		if n := credits(); n != 1 {
			t.Fatalf("the retry spent another credit: %d left", n)
		}
		must(t, rs.FinishDeliveries(ctx, noon.Add(4*time.Minute), []notify.Result{
			{InboxID: retry.InboxID, Channel: notify.ChannelWxSub, Error: "errcode 43101", Refused: true},
		}))
		if p, _ := rs.Prefs(ctx, s.m, mini.ID); p.WxSubGrants != 0 {
			t.Fatalf("after WeChat's refusal %d credits remain", p.WxSubGrants)
		}

		// Opting out of subscribe messages frees a grant a pending delivery held.
		must(t, rs.AddMiniGrants(ctx, s.m, mini.ID, "wxmini0000000001", []string{"TMPL-REMIND"}))
		at := noon.Add(20 * time.Minute)
		r := &live.Room{MerchantID: s.m, Slug: "grant-late", Title: "晚场", ScheduledAt: &at}
		must(t, s.live.CreateRoom(ctx, r))
		must(t, rs.Subscribe(ctx, s.m, r.ID, mini.ID))
		db.Now = func() time.Time { return noon.Add(10 * time.Minute) }
		_, err = rs.RemindSoon(ctx, noon.Add(10*time.Minute), 15*time.Minute)
		must(t, err)
		held := 0
		late, err := rs.ClaimDeliveries(ctx, noon.Add(10*time.Minute), time.Minute, 50)
		must(t, err)
		for _, d := range late {
			if d.Channel == notify.ChannelWxSub && d.OpenID != "" && d.Slug == "grant-late" {
				held++
			}
		}
		if held != 1 {
			t.Fatalf("the new grant went to %d deliveries", held)
		}
		must(t, rs.SetWeChatPrefs(ctx, s.m, mini.ID, false, true))
		if p, _ := rs.Prefs(ctx, s.m, mini.ID); p.WxSub || p.WxSubGrants != 3 {
			t.Fatalf("after opting out: %+v (want 3: the new grant and the two still held by unsent deliveries are free again)", p)
		}
		if n := count(`SELECT count(*) FROM notify_deliveries WHERE customer_id = ? AND channel = 'wx_sub' AND state = 'pending'`, mini.ID); n != 0 {
			t.Fatalf("%d subscribe deliveries still pending after opting out", n)
		}

		must(t, db.EraseCustomer(ctx, s.m, mini.ID))
		if n := count(`SELECT count(*) FROM wechat_mini_grants WHERE customer_id = ?`, mini.ID); n != 0 {
			t.Fatalf("erase left %d credits", n)
		}
	})
}
