package kuaidi100_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/delivery"
	"github.com/shelflive/shelflive/internal/delivery/kuaidi100"
	"github.com/shelflive/shelflive/internal/delivery/kuaidi100/kuaidi100test"
)

// TestTrackAgainstFake: a signed query over real HTTP to the local fake
// returns the timeline, newest first, in UTC with our stages; SF Express
// gets the phone's last four digits; a wrong key is refused by the fake's
// signature check; an unknown parcel is "not found yet".
func TestTrackAgainstFake(t *testing.T) {
	f := kuaidi100test.Start("C0FFEE1234", "k3y-of-the-account")
	defer f.Close()
	f.Put("shunfeng", "SF1234567890123", kuaidi100test.Parcel{State: "5", Phone: "5678", Data: []kuaidi100.Datum{
		{Time: "2026-12-07 10:05:00", Context: "【上海市】快件派送中，冷链保温箱", Location: "上海市"},
		{Time: "2026-12-07 06:40:00", Context: "【上海市】快件已到达 静安营业点", Location: "上海市"},
		{Time: "2026-12-06 21:10:00", Context: "顺丰速运 已收取快件", Location: "上海市"},
	}})
	c := &kuaidi100.Client{Customer: "C0FFEE1234", Key: "k3y-of-the-account", URL: f.URL}
	ctx := context.Background()

	tr, err := c.Track(ctx, "shunfeng", " sf1234567890123 ", "13912345678")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Stage != delivery.StageDelivering || tr.Delivered || len(tr.Events) != 3 || tr.TrackingNo != "SF1234567890123" {
		t.Fatalf("track %+v", tr)
	}
	if want := time.Date(2026, 12, 7, 2, 5, 0, 0, time.UTC); !tr.Events[0].At.Equal(want) || tr.Events[0].Stage != delivery.StageDelivering || tr.Events[0].Source != "kuaidi100" {
		t.Fatalf("newest event %+v", tr.Events[0])
	}
	if _, err := c.Track(ctx, "shunfeng", "SF1234567890123", "13900000000"); !errors.Is(err, delivery.ErrProvider) {
		t.Fatalf("wrong phone digits: %v", err)
	}
	if _, err := c.Track(ctx, "shunfeng", "SF0000000000000", "13912345678"); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("unknown parcel: %v", err)
	}
	if _, err := c.Track(ctx, "nonsense", "SF1234567890123", ""); !errors.Is(err, delivery.ErrUnknownCarrier) {
		t.Fatalf("unknown carrier: %v", err)
	}
	if _, err := c.Track(ctx, "shunfeng", "SF-12", ""); !errors.Is(err, delivery.ErrTrackingNo) {
		t.Fatalf("malformed number: %v", err)
	}
	wrong := &kuaidi100.Client{Customer: "C0FFEE1234", Key: "stolen-or-stale", URL: f.URL}
	if _, err := wrong.Track(ctx, "shunfeng", "SF1234567890123", "13912345678"); !errors.Is(err, delivery.ErrProvider) {
		t.Fatalf("wrong key: %v", err)
	}
	if ok, bad := f.Calls(); ok != 3 || bad != 1 {
		t.Fatalf("fake answered %d, refused %d signatures", ok, bad)
	}
	// Delivered: state 3.
	f.Put("zhongtong", "75123456789012", kuaidi100test.Parcel{State: "3", Data: []kuaidi100.Datum{{Time: "2026-12-07 11:00:00", Context: "已签收，签收人：本人"}}})
	tr, err = c.Track(ctx, "zhongtong", "75123456789012", "")
	if err != nil || !tr.Delivered || tr.Stage != delivery.StageDelivered {
		t.Fatalf("delivered: %+v %v", tr, err)
	}
}

func TestSign(t *testing.T) {
	// upper(md5("{}" + "key" + "cust"))
	if got := kuaidi100.Sign("{}", "key", "cust"); got != "7285A91E97634DA7B4D700CC3F20F94D" {
		t.Fatalf("sign %q", got)
	}
	if kuaidi100.Sign("a", "b", "c") != kuaidi100.Sign("ab", "", "c") {
		t.Fatal("the signature is over the concatenation")
	}
}
