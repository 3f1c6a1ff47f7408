package stores

import (
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
)

// Pickup slots: a store that sets SlotCapacity > 0 hands pickup orders over
// in time slots of SlotMinutes within its opening hours (OpenMinute to
// CloseMinute, minutes after midnight, China time), at most SlotCapacity
// orders per slot. A slot is offered while at least SlotLead of it is left,
// today and tomorrow; never when the store is closed.
const (
	DefaultOpenMinute  = 8 * 60
	DefaultCloseMinute = 22 * 60
	DefaultSlotMinutes = 60
	// SlotLead is how much of a slot must be left to book it: nobody is
	// given a slot that ends before they can get there.
	SlotLead = 30 * time.Minute
	// SlotDays is how many days ahead (today included) slots are offered.
	SlotDays = 2
	// SlotEndingSoon is when "your slot ends soon" goes out.
	SlotEndingSoon = 30 * time.Minute
)

// Slot errors.
var (
	ErrSlotClosed = apperr.InvalidField("pickup_slot", "pickup_slot_closed", "门店该时段不营业或已过，请选择其他时段", "The store is closed then, or the slot is over; choose another slot.")
	ErrSlotsFull  = apperr.New(apperr.Conflict, "pickup_slots_full", "近两天的自提时段都已约满，请选择其他门店", "Every pickup slot of the next two days is full; choose another store.")
	ErrHours      = apperr.InvalidField("open_minute", "invalid_store_hours", "营业时间须在 00:00–24:00 之间且关门晚于开门，时段 15–240 分钟，每时段最多 1000 单", "Opening hours must lie within the day with closing after opening; slots 15–240 minutes, at most 1000 orders each.")
)

// Slot is one pickup window with the orders it can still take.
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Left  int64     `json:"left"`
	Label string    `json:"label"` // "12-07 10:00–11:00", China time
}

// SlotKind says what a slot is for: the same grid of opening hours books
// pickups (SlotCapacity) and same-city deliveries (DeliverySlotCapacity).
type SlotKind string

const (
	PickupSlots   SlotKind = "pickup"
	DeliverySlots SlotKind = "delivery"
)

// Capacity is how many orders one slot of kind takes (0: no slots).
func (s *Store) Capacity(kind SlotKind) int64 {
	if kind == DeliverySlots {
		return s.DeliverySlotCapacity
	}
	return s.SlotCapacity
}

// SlotsOn says whether the store books pickups into slots.
func (s *Store) SlotsOn() bool { return s.SlotCapacity > 0 }

// normalizeHours fills defaults and checks the opening hours and slots.
func (s *Store) normalizeHours() error {
	if s.OpenMinute == 0 && s.CloseMinute == 0 {
		s.OpenMinute, s.CloseMinute = DefaultOpenMinute, DefaultCloseMinute
	}
	if s.SlotMinutes == 0 {
		s.SlotMinutes = DefaultSlotMinutes
	}
	if s.OpenMinute < 0 || s.CloseMinute > 24*60 || s.CloseMinute <= s.OpenMinute || s.SlotMinutes < 15 || s.SlotMinutes > 240 ||
		s.SlotCapacity < 0 || s.SlotCapacity > 1000 {
		return ErrHours
	}
	return nil
}

// Open reports whether the store is open at t.
func (s *Store) Open(t time.Time) bool {
	l := t.In(cn.Shanghai)
	m := l.Hour()*60 + l.Minute()
	return m >= s.OpenMinute && m < s.CloseMinute
}

// SlotTimes lists the bookable slots from now on (today and tomorrow, China
// time): each starts on the slot grid from opening, ends at the latest at
// closing, and has at least SlotLead left.
func (s *Store) SlotTimes(now time.Time) []Slot { return s.SlotTimesOf(PickupSlots, now) }

// SlotTimesOf is SlotTimes for pickups or deliveries.
func (s *Store) SlotTimesOf(kind SlotKind, now time.Time) []Slot {
	var out []Slot
	if s.Capacity(kind) <= 0 {
		return out
	}
	day := now.In(cn.Shanghai)
	midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, cn.Shanghai)
	for d := 0; d < SlotDays; d++ {
		base := midnight.AddDate(0, 0, d)
		for m := s.OpenMinute; m < s.CloseMinute; m += s.SlotMinutes {
			start := base.Add(time.Duration(m) * time.Minute)
			end := base.Add(time.Duration(min(m+s.SlotMinutes, s.CloseMinute)) * time.Minute)
			if end.Sub(now) < SlotLead {
				continue
			}
			out = append(out, Slot{Start: start.UTC(), End: end.UTC(), Label: SlotLabel(start, end)})
		}
	}
	return out
}

// SlotsFrom is SlotTimes starting at the slot that starts at want (the
// buyer's choice; the next ones are where a full slot moves the buyer), or
// all of them when want is zero. A want that is not a bookable slot —
// the store is closed then, it is over, or it is off the grid — is
// ErrSlotClosed.
func (s *Store) SlotsFrom(now, want time.Time) ([]Slot, error) {
	return s.SlotsFromOf(PickupSlots, now, want)
}

// SlotsFromOf is SlotsFrom for pickups or deliveries.
func (s *Store) SlotsFromOf(kind SlotKind, now, want time.Time) ([]Slot, error) {
	all := s.SlotTimesOf(kind, now)
	if want.IsZero() {
		return all, nil
	}
	for i, sl := range all {
		if sl.Start.Equal(want) {
			return all[i:], nil
		}
	}
	return nil, ErrSlotClosed
}

// SlotLabel is a slot as buyers read it, China time.
func SlotLabel(start, end time.Time) string {
	a, b := start.In(cn.Shanghai), end.In(cn.Shanghai)
	return fmt.Sprintf("%s %s–%s", a.Format("01-02"), a.Format("15:04"), b.Format("15:04"))
}
