package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

type presaleView struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Committed int64  `json:"committed"`
	Percent   int64  `json:"percent"`
	MOQ       int64  `json:"moq"`
	Rule      string `json:"rule"`
}

// presaleDeadlinePassed moves a pre-sale's deadline into the past, as the
// clock would: the leader's next tick settles it.
func presaleDeadlinePassed(t *testing.T, s *demoShop, id int64) {
	t.Helper()
	err := s.m.DB.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE presales SET deadline = ? WHERE id = ?`, time.Now().Add(-time.Second).UnixMilli(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buyPresale commits qty units for a viewer and pays with the dev provider
// (pay=false leaves the order unpaid).
func buyPresale(t *testing.T, s *demoShop, id int64, phone string, qty int64, pay bool) orderView {
	t.Helper()
	buyer := viewerLogin(t, s.base, "demo", phone)
	var o orderView
	send(t, nil, s.base, "POST", "/api/v1/presales/"+itoa(id)+"/commit", map[string]any{"quantity": qty, "fulfilment": "pickup", "store_id": s.storeID}, buyer.Token,
		map[string]string{"Idempotency-Key": "ps-" + phone}).want(t, 201).decode(t, &o)
	if pay {
		var in struct {
			Intent string `json:"intent"`
		}
		send(t, nil, s.base, "POST", "/api/v1/orders/"+itoa(o.ID)+"/pay", nil, buyer.Token, nil).want(t, 200).decode(t, &in)
		send(t, nil, s.base, "POST", "/api/v1/payments/dev/"+in.Intent+"/confirm", nil, "", nil).want(t, 200)
	}
	return o
}

func openPresale(t *testing.T, s *demoShop, body map[string]any) presaleView {
	t.Helper()
	deadline := time.Now().Add(2 * time.Hour)
	in := map[string]any{"title": "粉丝共创款 速食杂粮粉", "sku_id": s.sku1, "price_fen": 3990, "moq": 3, "deadline": deadline, "ship_by": deadline.Add(15 * 24 * time.Hour), "supplier": "五常粮食加工厂"}
	for k, v := range body {
		in[k] = v
	}
	var p presaleView
	send(t, nil, s.base, "POST", "/api/v1/presales", in, testkit.OwnerToken, nil).want(t, 201).decode(t, &p)
	return p
}

// TestPresaleEndToEnd: two pre-sales through the API of a running node.
// One reaches its minimum: at the deadline it is decided once, the
// production order downloads as CSV and XLSX and presale.reached arrives
// signed, once. The other misses: its paid order is cancelled and refunded
// through the provider exactly once, its unpaid order expires, and
// presale.failed arrives once. Bad input changes nothing; a late buyer is
// refused.
func TestPresaleEndToEnd(t *testing.T) {
	s := newShop(t, "-webhooks-allow-private", "-rate-limits=false")
	owner := testkit.OwnerToken
	rcv := &hookReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var ep struct {
		Secret string `json:"secret"`
	}
	send(t, nil, s.base, "POST", "/api/v1/webhooks", map[string]any{"url": srv.URL, "events": []string{"presale.reached", "presale.failed"}}, owner, nil).want(t, 201).decode(t, &ep)
	rcv.mu.Lock()
	rcv.secret = ep.Secret
	rcv.mu.Unlock()

	// bad input: no pre-sale is stored
	deadline := time.Now().Add(time.Hour)
	send(t, nil, s.base, "POST", "/api/v1/presales", map[string]any{"title": "x", "sku_id": s.sku1, "price_fen": 100, "moq": 0, "deadline": deadline, "ship_by": deadline.Add(time.Hour)}, owner, nil).wantProblem(t, 400, "presale_moq_invalid")
	send(t, nil, s.base, "POST", "/api/v1/presales", map[string]any{"title": "x", "sku_id": s.sku1, "price_fen": 100, "deposit_fen": 50, "moq": 2, "deadline": deadline, "ship_by": deadline.Add(time.Hour)}, owner, nil).wantProblem(t, 400, "presale_balance_due_invalid")
	send(t, nil, s.base, "POST", "/api/v1/presales", map[string]any{"title": "x", "sku_id": s.sku1, "price_fen": 100, "moq": 2, "deadline": time.Now().Add(-time.Minute), "ship_by": deadline}, owner, nil).wantProblem(t, 400, "presale_deadline_invalid")
	send(t, nil, s.base, "POST", "/api/v1/presales", map[string]any{"title": "全网最好的杂粮粉", "sku_id": s.sku1, "price_fen": 100, "moq": 2, "deadline": deadline, "ship_by": deadline.Add(time.Hour)}, owner, nil).wantProblem(t, 409, "presale_noncompliant")
	var list struct{ Presales []presaleView }
	send(t, nil, s.base, "GET", "/api/v1/presales", nil, owner, nil).decode(t, &list)
	if len(list.Presales) != 0 {
		t.Fatalf("refused pre-sales were stored: %+v", list.Presales)
	}

	reach := openPresale(t, s, map[string]any{"room_id": 1})
	miss := openPresale(t, s, map[string]any{"moq": 10, "title": "粉丝共创款 燕麦片"})
	if !strings.Contains(reach.Rule, "原路自动退回") {
		t.Fatalf("the money rule is not stated: %q", reach.Rule)
	}
	for i := 0; i < 3; i++ {
		buyPresale(t, s, reach.ID, fmt.Sprintf("1390000120%d", i), 1, true)
	}
	paidMiss := buyPresale(t, s, miss.ID, "13900001210", 2, true)
	unpaidMiss := buyPresale(t, s, miss.ID, "13900001211", 1, false)
	var got presaleView
	send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(reach.ID), nil, "", nil).want(t, 200).decode(t, &got)
	if got.Committed != 3 || got.Percent != 100 || got.Status != "open" {
		t.Fatalf("progress before the deadline: %+v", got)
	}
	var room struct {
		Presale *presaleView `json:"presale"`
	}
	send(t, nil, s.base, "GET", "/api/v1/rooms/demo", nil, "", nil).decode(t, &room)
	if room.Presale == nil || room.Presale.ID != reach.ID || room.Presale.Percent != 100 {
		t.Fatalf("the room's state does not carry the pre-sale: %+v", room.Presale)
	}
	// The production order exists only once the minimum is reached at the deadline.
	send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(reach.ID)+"/production.csv", nil, owner, nil).wantProblem(t, 409, "presale_not_reached")

	presaleDeadlinePassed(t, s, reach.ID)
	presaleDeadlinePassed(t, s, miss.ID)
	testkit.WaitFor(t, "both pre-sales decided", 30*time.Second, func() bool {
		var a, b presaleView
		send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(reach.ID), nil, "", nil).decode(t, &a)
		send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(miss.ID), nil, "", nil).decode(t, &b)
		return a.Status == "reached" && b.Status == "failed"
	})
	late := viewerLogin(t, s.base, "demo", "13900001299")
	send(t, nil, s.base, "POST", "/api/v1/presales/"+itoa(reach.ID)+"/commit", map[string]any{"quantity": 1, "fulfilment": "pickup", "store_id": s.storeID}, late.Token,
		map[string]string{"Idempotency-Key": "late"}).wantProblem(t, 409, "presale_closed")

	csv := send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(reach.ID)+"/production.csv", nil, owner, nil).want(t, 200)
	if !bytes.HasPrefix(csv.Body, []byte("\xEF\xBB\xBF")) || !strings.Contains(string(csv.Body), "生产数量 Units to make,3") || !strings.Contains(string(csv.Body), "五常粮食加工厂") {
		t.Fatalf("production CSV:\n%s", csv.Body)
	}
	xr := send(t, nil, s.base, "GET", "/api/v1/presales/"+itoa(reach.ID)+"/production.xlsx", nil, owner, nil).want(t, 200)
	f, err := excelize.OpenReader(bytes.NewReader(xr.Body))
	if err != nil {
		t.Fatalf("production XLSX: %v", err)
	}
	rows, _ := f.GetRows("生产单 Production order")
	found := false
	for _, r := range rows {
		if len(r) == 2 && r[0] == "生产数量 Units to make" && r[1] == "3" {
			found = true
		}
	}
	if !found {
		t.Fatalf("XLSX rows: %v", rows)
	}

	// The missed pre-sale: the paid order is cancelled and refunded once,
	// the unpaid one expired.
	testkit.WaitFor(t, "the paid order of the missed pre-sale refunded", 30*time.Second, func() bool {
		var o orderView
		send(t, nil, s.base, "GET", "/api/v1/orders/"+itoa(paidMiss.ID), nil, owner, nil).decode(t, &o)
		return o.Status == "cancelled"
	})
	var refunds struct {
		Refunds []struct {
			AmountFen int64  `json:"amount_fen"`
			Status    string `json:"status"`
		} `json:"refunds"`
	}
	send(t, nil, s.base, "GET", "/api/v1/orders/"+itoa(paidMiss.ID)+"/refunds", nil, owner, nil).want(t, 200).decode(t, &refunds)
	if len(refunds.Refunds) != 1 || refunds.Refunds[0].AmountFen != paidMiss.TotalFen || refunds.Refunds[0].Status != "succeeded" {
		t.Fatalf("refunds of the paid order: %+v (total %d)", refunds.Refunds, paidMiss.TotalFen)
	}
	var uo orderView
	send(t, nil, s.base, "GET", "/api/v1/orders/"+itoa(unpaidMiss.ID), nil, owner, nil).decode(t, &uo)
	if uo.Status != "expired" {
		t.Fatalf("unpaid order of the missed pre-sale: %s", uo.Status)
	}

	testkit.WaitFor(t, "presale.reached and presale.failed delivered", 30*time.Second, func() bool { return len(rcv.types()) >= 2 })
	time.Sleep(2 * time.Second) // a duplicate would arrive by now
	types := rcv.types()
	if len(types) != 2 || !(types[0] == "presale.reached" && types[1] == "presale.failed" || types[1] == "presale.reached" && types[0] == "presale.failed") {
		t.Fatalf("received %v, want presale.reached and presale.failed once each", types)
	}
	rcv.mu.Lock()
	for _, msg := range rcv.got {
		if msg["type"] == "presale.reached" {
			prod := msg["data"].(map[string]any)["production"].(map[string]any)
			if prod["units"].(float64) != 3 {
				t.Errorf("presale.reached production: %v", prod)
			}
		}
	}
	rcv.mu.Unlock()
}

// TestPresaleInTheRoom: a phone in the room shows the pre-sale's chip
// ("粉丝共创款 … 已达 33%"); as two more buyers pay, it moves to 100%
// without a reload; its page shows the progress and the money rule.
func TestPresaleInTheRoom(t *testing.T) {
	s := newShop(t)
	p := openPresale(t, s, map[string]any{"room_id": 1})
	buyPresale(t, s, p.ID, "13900001300", 1, true)

	ctx := testkit.NewContext(t, testkit.Browser(t), 90*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(s.base+"/live/demo"),
		chromedp.WaitVisible(chromedp.CSS("#presale-chip")),
	); err != nil {
		t.Fatal(err)
	}
	chip, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#presale-chip").textContent`))
	if !strings.Contains(chip, "粉丝共创款") || !strings.Contains(chip, "已达 33%") {
		t.Fatalf("room chip: %q", chip)
	}
	buyPresale(t, s, p.ID, "13900001301", 1, true)
	buyPresale(t, s, p.ID, "13900001302", 1, true)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#presale-chip").textContent.includes("已达 100%")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		chip, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#presale-chip").textContent`))
		t.Fatalf("the chip did not move to 100%%: %q (%v)", chip, err)
	}
	// the chip is inside the phone's screen and covers none of the header's
	// chips and pills, nor the pinned card
	overlap, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const c = document.querySelector("#presale-chip").getBoundingClientRect();
		if (c.left < 0 || c.right > innerWidth || c.top < 0) return "outside the screen";
		for (const sel of [".host-chip", "#room-status", "#my-orders-link", ".stage-stats .lang-link", "#pinned"]) {
			const e = document.querySelector(sel); if (!e) continue;
			const r = e.getBoundingClientRect();
			if (r.width && c.left < r.right && r.left < c.right && c.top < r.bottom && r.top < c.bottom) return "covers " + sel;
		}
		return "";
	})()`))
	testkit.Screenshot(t, ctx, "presale-room-chip")
	if overlap != "" {
		t.Fatalf("the pre-sale chip %s", overlap)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/presale/"+itoa(p.ID)),
		chromedp.WaitVisible(chromedp.CSS("#presale-percent")),
	); err != nil {
		t.Fatal(err)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").textContent`))
	for _, want := range []string{"100%", "3 / 3", "原路自动退回", "登录后参与预售"} {
		if !strings.Contains(text, want) {
			t.Fatalf("pre-sale page lacks %q: %s", want, text)
		}
	}
	testkit.Screenshot(t, ctx, "presale-page")
}
