package web_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestRefundRetry: WeChat Pay's bank refuses a refund (REFUND.ABNORMAL,
// the fake's signed callback over HTTP): the refund is failed. Staff's
// retry button makes a new refund of the same amount, once however often
// it is pressed, and the money is refunded once. A second refused refund
// is retried by the leader when its backoff is over, without anyone.
func TestRefundRetry(t *testing.T) {
	s := newWeChatShop(t)
	buyer := viewerLogin(t, s.base, "demo", "13900007531")
	o, p := s.order(t, buyer.Token, "native")
	if _, err := s.fake.Pay(s.mchid, p.Intent); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "paid", 20*time.Second, func() bool { return orderStatus(t, s.base, buyer.Token, o.ID).Status == "paid" })
	path := "/api/v1/orders/" + strconv.FormatInt(o.ID, 10)
	type refund struct {
		RefundNo  string `json:"refund_no"`
		Status    string `json:"status"`
		AmountFen int64  `json:"amount_fen"`
		Attempt   int    `json:"attempt"`
		RetryOf   string `json:"retry_of"`
		RetryAt   string `json:"retry_at"`
		RetriedBy string `json:"retried_by"`
	}
	list := func() []refund {
		var l struct {
			Refunds []refund `json:"refunds"`
		}
		send(t, nil, s.base, "GET", path+"/refunds", nil, testkit.OwnerToken, nil).want(t, 200).decode(t, &l)
		return l.Refunds
	}
	refundPart := func(key string, fen int64) refund {
		var rf refund
		r := send(t, nil, s.base, "POST", path+"/refunds", map[string]any{"amount_fen": fen, "reason": "少件"}, testkit.OwnerToken, map[string]string{"Idempotency-Key": key})
		if r.Status != 200 && r.Status != 201 {
			t.Fatalf("refund: %d %s", r.Status, r.Body)
		}
		r.decode(t, &rf)
		return rf
	}

	s.fake.RefundsAbnormal.Store(true)
	first := refundPart("part-1", 100)
	testkit.WaitFor(t, "the bank's refusal", 20*time.Second, func() bool { l := list(); return len(l) == 1 && l[0].Status == "failed" })
	if l := list(); l[0].RetryAt == "" {
		t.Fatalf("a refused refund has no automatic retry: %+v", l)
	}
	send(t, nil, s.base, "POST", path+"/refunds/retry", map[string]string{"refund_no": "RF-nonsense"}, testkit.OwnerToken, nil).wantProblem(t, 409, "refund_not_retryable")
	guide := staffLogin(t, s.base, "guide", "shelflive-demo")
	send(t, nil, s.base, "POST", path+"/refunds/retry", map[string]string{"refund_no": first.RefundNo}, guide.Token, nil).wantProblem(t, 403, "forbidden")

	// Staff press 重试退款 (twice): one new refund, refunded once.
	s.fake.RefundsAbnormal.Store(false)
	var retry, again refund
	send(t, nil, s.base, "POST", path+"/refunds/retry", map[string]string{"refund_no": first.RefundNo}, testkit.OwnerToken, nil).want(t, 200).decode(t, &retry)
	send(t, nil, s.base, "POST", path+"/refunds/retry", map[string]string{"refund_no": first.RefundNo}, testkit.OwnerToken, nil).want(t, 200).decode(t, &again)
	if retry.RetryOf != first.RefundNo || retry.Attempt != 2 || retry.AmountFen != 100 || again.RefundNo != retry.RefundNo {
		t.Fatalf("retry %+v, again %+v", retry, again)
	}
	testkit.WaitFor(t, "the retried refund", 20*time.Second, func() bool { return orderStatus(t, s.base, buyer.Token, o.ID).RefundedFen == 100 })
	if l := list(); len(l) != 2 || l[0].RetriedBy != retry.RefundNo || l[1].Status != "succeeded" {
		t.Fatalf("refunds %+v", l)
	}
	if vo, _ := s.fake.Order(s.mchid, p.Intent); vo.Refunded != 100 {
		t.Fatalf("WeChat Pay refunded %d", vo.Refunded)
	}
	if n := auditCount(t, s.demoShop, "order.refund_retry"); n != 1 {
		t.Fatalf("%d order.refund_retry audit entries", n)
	}

	// The leader retries a refused refund once its backoff is over.
	s.fake.RefundsAbnormal.Store(true)
	second := refundPart("part-2", 200)
	testkit.WaitFor(t, "the second refusal", 20*time.Second, func() bool {
		for _, r := range list() {
			if r.RefundNo == second.RefundNo {
				return r.Status == "failed"
			}
		}
		return false
	})
	s.fake.RefundsAbnormal.Store(false)
	// The backoff (a minute) is over: moved back rather than waited for.
	if err := s.m.DB.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(t.Context(), `UPDATE refunds SET retry_at = ? WHERE refund_no = ?`, time.Now().Add(-time.Second).UnixMilli(), second.RefundNo)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the leader's retry", 30*time.Second, func() bool { return orderStatus(t, s.base, buyer.Token, o.ID).RefundedFen == 300 })
	if n := auditCount(t, s.demoShop, "order.refund_retry"); n != 2 {
		t.Fatalf("%d order.refund_retry audit entries after the leader's retry", n)
	}
	if vo, _ := s.fake.Order(s.mchid, p.Intent); vo.Refunded != 300 {
		t.Fatalf("WeChat Pay refunded %d", vo.Refunded)
	}
}
