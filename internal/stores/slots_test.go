package stores_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/stores"
)

func at(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, cn.Shanghai) }

func TestSlotTimes(t *testing.T) {
	s := &stores.Store{Name: "店", Address: "地址", Lat: 31, Lng: 121, OpenMinute: 9 * 60, CloseMinute: 12*60 + 30, SlotMinutes: 60, SlotCapacity: 5}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// 10:40: the 10:00 slot has 20 minutes left (< SlotLead): gone; the
	// last slot of the day is cut at closing (12:00–12:30).
	got := s.SlotTimes(at(10, 40).UTC())
	want := []string{"12-07 11:00–12:00", "12-07 12:00–12:30", "12-08 09:00–10:00", "12-08 10:00–11:00", "12-08 11:00–12:00", "12-08 12:00–12:30"}
	if len(got) != len(want) {
		t.Fatalf("slots %+v", got)
	}
	for i := range want {
		if got[i].Label != want[i] {
			t.Fatalf("slot %d = %s, want %s", i, got[i].Label, want[i])
		}
	}
	// No slot while closed: after closing only tomorrow's.
	if late := s.SlotTimes(at(23, 0).UTC()); len(late) != 4 || late[0].Label != "12-08 09:00–10:00" {
		t.Fatalf("after closing: %+v", late)
	}
	if s.Open(at(8, 59)) || !s.Open(at(9, 0)) || s.Open(at(12, 30)) {
		t.Fatal("opening hours")
	}
	// Asking for a slot when closed, off the grid or over is refused.
	for _, want := range []time.Time{at(8, 0), at(11, 30), at(10, 0), at(13, 0)} {
		if _, err := s.SlotsFrom(at(10, 40).UTC(), want.UTC()); !errors.Is(err, stores.ErrSlotClosed) {
			t.Fatalf("SlotsFrom(%v) = %v", want, err)
		}
	}
	from, err := s.SlotsFrom(at(10, 40).UTC(), at(12, 0).UTC())
	if err != nil || len(from) != 5 || from[0].Label != "12-07 12:00–12:30" {
		t.Fatalf("SlotsFrom 12:00: %+v %v", from, err)
	}
	// Slots off: none.
	s.SlotCapacity = 0
	if len(s.SlotTimes(at(10, 0))) != 0 {
		t.Fatal("slots without capacity")
	}
	for _, bad := range []stores.Store{{OpenMinute: 600, CloseMinute: 500}, {OpenMinute: 0, CloseMinute: 1500}, {SlotMinutes: 5}, {SlotCapacity: -1}} {
		bad.Name, bad.Address, bad.Lat, bad.Lng = "店", "地址", 31, 121
		if err := bad.Validate(); !errors.Is(err, stores.ErrHours) {
			t.Fatalf("Validate(%+v) = %v", bad, err)
		}
	}
}
