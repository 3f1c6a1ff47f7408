// Package household turns a household's smart fridge or pantry into a
// timely nudge: a device the customer linked (with consent recorded and
// revocable) reports how full each category is (牛奶 at 30 %), the
// household's consumption rate is smoothed per category, and shortly
// before a category runs out the customer gets one push to the next live
// or product of that category — within frequency caps, never in the
// install's quiet hours (notify.Quiet), never after an opt-out.
package household

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/coldchain"
)

// Device is a fridge or pantry a customer linked to their account.
type Device struct {
	ID         int64      `json:"id"`
	MerchantID int64      `json:"-"`
	CustomerID int64      `json:"-"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"` // fridge | pantry
	ConsentAt  time.Time  `json:"consent_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastSeenAt *time.Time `json:"last_seen_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Reading is one report: how full a category is (0 empty … 1 full) at a time.
type Reading struct {
	Category string    `json:"category"`
	Level    float64   `json:"level"`
	At       time.Time `json:"at"`
}

// Estimate is what the readings say about one category of one household.
type Estimate struct {
	Category string     `json:"category"`
	Level    float64    `json:"level"`
	LevelAt  time.Time  `json:"level_at"`
	Rate     float64    `json:"rate_per_day"` // smoothed consumption, fraction of full per day
	Samples  int        `json:"samples"`
	RunoutAt *time.Time `json:"runout_at,omitempty"`
	// anchor: the reading the next rate observation is measured from, so
	// readings minutes apart accumulate into one observation.
	AnchorLevel float64   `json:"-"`
	AnchorAt    time.Time `json:"-"`
}

// Smoothing and decision constants, stated once.
const (
	// Alpha weighs a new consumption observation against the past rate
	// (simple exponential smoothing).
	Alpha = 0.4
	// MinSpan is the shortest time between two readings that makes a rate
	// observation; shorter gaps accumulate.
	MinSpan = time.Hour
	// Restock: a rise of more than this is a refill, not noise.
	Restock = 0.05
	// Lead is how long before the estimated run-out the push goes out.
	Lead = 36 * time.Hour
	// MinSamples readings before anything is pushed.
	MinSamples = 3
	// CategoryGap: at most one push per household and category in this time.
	CategoryGap = 72 * time.Hour
	// WeeklyCap pushes per household per 7 days, all categories.
	WeeklyCap = 3
)

// Observe folds a reading into the estimate. Readings older than the last
// one are ignored (a device that replays its buffer); a rise beyond
// Restock is a refill that keeps the learned rate.
func (e Estimate) Observe(r Reading) Estimate {
	if e.Samples > 0 && !r.At.After(e.LevelAt) {
		return e
	}
	e.Category = r.Category
	switch {
	case e.Samples == 0:
		e.AnchorLevel, e.AnchorAt = r.Level, r.At
	case r.Level > e.Level+Restock:
		e.AnchorLevel, e.AnchorAt = r.Level, r.At
	case r.At.Sub(e.AnchorAt) >= MinSpan:
		days := r.At.Sub(e.AnchorAt).Hours() / 24
		obs := math.Max(0, e.AnchorLevel-r.Level) / days
		if e.Rate == 0 {
			e.Rate = obs
		} else {
			e.Rate = Alpha*obs + (1-Alpha)*e.Rate
		}
		e.AnchorLevel, e.AnchorAt = r.Level, r.At
	}
	e.Level, e.LevelAt = r.Level, r.At
	e.Samples++
	e.RunoutAt = nil
	if e.Rate > 1e-6 {
		t := r.At.Add(time.Duration(r.Level / e.Rate * 24 * float64(time.Hour)))
		e.RunoutAt = &t
	}
	return e
}

// Due reports whether the estimate calls for a push at now: enough
// readings, a run-out within Lead and not long past, the category at most
// half full.
func (e Estimate) Due(now time.Time) bool {
	if e.Samples < MinSamples || e.RunoutAt == nil || e.Level > 0.5 {
		return false
	}
	left := e.RunoutAt.Sub(now)
	return left <= Lead && left > -12*time.Hour
}

// Push is one nudge sent to a household, with what came of it.
type Push struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"-"`
	Category   string     `json:"category"`
	Title      string     `json:"title"`
	URL        string     `json:"url"`
	RoomID     int64      `json:"room_id,omitempty"`
	ProductID  int64      `json:"product_id,omitempty"`
	RunoutAt   time.Time  `json:"runout_at"`
	SentAt     time.Time  `json:"sent_at"`
	OpenedAt   *time.Time `json:"opened_at,omitempty"`
}

// Target is the room a push sends the household to, with the product of
// the category it has.
type Target struct {
	RoomID      int64
	RoomSlug    string
	RoomTitle   string
	Live        bool
	StartsAt    *time.Time // scheduled rooms
	ProductID   int64
	ProductName string
}

// Stats is push → open → order for a merchant over a period.
type Stats struct {
	Devices int64 `json:"devices"`
	Pushes  int64 `json:"pushes"`
	Opened  int64 `json:"opened"`
	// Ordered counts pushes whose customer paid for a product of the
	// category within OrderWindow after opening it.
	Ordered    int64 `json:"ordered"`
	OptedOut   int64 `json:"opted_out"`
	Households int64 `json:"households"`
}

// OrderWindow is how long after an opened push an order counts for it.
const OrderWindow = 48 * time.Hour

// Kinds of device.
var kinds = map[string]bool{"fridge": true, "pantry": true}

// ErrNoPush: a push link whose token is unknown (an old or mistyped link;
// the page sends the viewer home rather than to an error).
var ErrNoPush = errors.New("household: no such push")

// Errors, one per code.
var (
	ErrConsent    = apperr.InvalidField("consent", "consent_required", "绑定设备须同意共享库存数据", "Linking a device needs your consent to share its stock levels.")
	ErrDeviceName = apperr.InvalidField("name", "invalid_device", "设备名称1到30字，类型为 fridge 或 pantry", "A device needs a name of 1-30 characters and a kind, fridge or pantry.")
	// The device codes are the cold-chain sensors' (one code, one meaning).
	ErrReading       = coldchain.ErrBadReading.At("readings").With("每次1到100条读数：类目1到20字，存量0到1，时间不早于30天前、不晚于现在", "1-100 readings: a category of 1-20 characters, a level from 0 to 1, a time within the last 30 days and not in the future.")
	ErrDeviceToken   = coldchain.ErrUnknownDevice.With("设备令牌无效或已解除绑定", "The device token is invalid or the device was unlinked.")
	ErrUnknownDevice = apperr.New(apperr.NotFound, "unknown_device", "设备不存在", "Unknown device.")
)

// CheckDevice validates a device before it is linked.
func CheckDevice(d *Device, consent bool) error {
	if !consent {
		return ErrConsent
	}
	d.Name = strings.TrimSpace(d.Name)
	if n := utf8.RuneCountInString(d.Name); n < 1 || n > 30 || !kinds[d.Kind] {
		return ErrDeviceName
	}
	return nil
}

// CheckReadings validates a batch against now.
func CheckReadings(rs []Reading, now time.Time) error {
	if len(rs) < 1 || len(rs) > 100 {
		return ErrReading
	}
	for i := range rs {
		r := &rs[i]
		r.Category = strings.TrimSpace(r.Category)
		if r.At.IsZero() {
			r.At = now
		}
		n := utf8.RuneCountInString(r.Category)
		if n < 1 || n > 20 || math.IsNaN(r.Level) || r.Level < 0 || r.Level > 1 || r.At.After(now.Add(time.Minute)) || r.At.Before(now.Add(-30*24*time.Hour)) {
			return ErrReading
		}
		r.At = r.At.UTC()
	}
	return nil
}

// Store keeps devices, readings, estimates and pushes.
type Store interface {
	// LinkDevice stores the device with the hash of its token.
	LinkDevice(ctx context.Context, d *Device, tokenHash string) error
	Devices(ctx context.Context, merchantID, customerID int64) ([]Device, error)
	// RevokeDevice ends consent: the token stops working, the device's
	// readings are deleted, estimates without another device are dropped.
	RevokeDevice(ctx context.Context, merchantID, customerID, deviceID int64) error
	// Ingest checks the token and folds the readings into the household's
	// estimates in one transaction; it returns the estimates it changed.
	Ingest(ctx context.Context, tokenHash string, rs []Reading) ([]Estimate, error)
	Estimates(ctx context.Context, merchantID, customerID int64) ([]Estimate, error)
	// SetOptOut switches pushes off (or on again) for a customer.
	SetOptOut(ctx context.Context, merchantID, customerID int64, off bool) error
	OptedOut(ctx context.Context, merchantID, customerID int64) (bool, error)
	// SendDue writes a push (and its inbox message) for every due estimate
	// not capped, not opted out, with a target; exactly once per household,
	// category and CategoryGap however often it runs. It returns the pushes.
	SendDue(ctx context.Context, now time.Time, limit int) ([]Push, error)
	// Open marks a push opened by its token and returns it.
	Open(ctx context.Context, token string, now time.Time) (*Push, error)
	// OptOutByToken is the one-tap opt-out link of a push.
	OptOutByToken(ctx context.Context, token string) error
	Stats(ctx context.Context, merchantID int64, since time.Time) (Stats, error)
}
