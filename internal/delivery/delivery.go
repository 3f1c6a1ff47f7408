// Package delivery holds what a parcel's journey looks like to ShelfLive:
// the carriers a shop ships with (their codes at the tracking providers),
// a status timeline of events, and the Tracker interface a tracking
// provider (kuaidi100, …) implements. It imports no adapter.
//
// Shipments (shipment.go) put a carrier and tracking number on a delivery
// order; their timeline is fed by the Tracker (delivery/kuaidi100, polled
// by the leader) and by staff's manual updates.
package delivery

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
)

// Carrier is a courier a shop hands parcels to.
type Carrier struct {
	Code string `json:"code"` // the provider's company code (kuaidi100 "com")
	ZH   string `json:"zh"`
	EN   string `json:"en"`
	// NeedsPhone: the carrier answers only with the last four digits of
	// the recipient's phone (SF Express).
	NeedsPhone bool `json:"needs_phone,omitempty"`
	// ColdChain: the carrier runs insulated/refrigerated services.
	ColdChain bool `json:"cold_chain,omitempty"`
	// Untracked: no tracking provider knows it (the store's own rider for
	// same-city delivery); its timeline is staff's manual updates only.
	Untracked bool `json:"untracked,omitempty"`
	// Pattern is the shape of the carrier's tracking numbers (after
	// NormalizeTrackingNo), so a mistyped number is refused at the counter
	// rather than polled for days.
	Pattern *regexp.Regexp `json:"-"`
}

// Carriers are the couriers offered, most used first.
var Carriers = []Carrier{
	{Code: "shunfeng", ZH: "顺丰速运", EN: "SF Express", NeedsPhone: true, ColdChain: true, Pattern: regexp.MustCompile(`^SF\d{12,13}$`)},
	{Code: "shunfenglengyun", ZH: "顺丰冷运", EN: "SF Cold Chain", NeedsPhone: true, ColdChain: true, Pattern: regexp.MustCompile(`^SF\d{12,13}$`)},
	{Code: "jd", ZH: "京东物流", EN: "JD Logistics", ColdChain: true, Pattern: regexp.MustCompile(`^JD[0-9A-Z]{11,14}$`)},
	{Code: "zhongtong", ZH: "中通快递", EN: "ZTO Express", Pattern: regexp.MustCompile(`^\d{12,14}$`)},
	{Code: "yuantong", ZH: "圆通速递", EN: "YTO Express", Pattern: regexp.MustCompile(`^YT\d{13}$`)},
	{Code: "yunda", ZH: "韵达快递", EN: "Yunda Express", Pattern: regexp.MustCompile(`^\d{13,15}$`)},
	{Code: "shentong", ZH: "申通快递", EN: "STO Express", Pattern: regexp.MustCompile(`^\d{12,15}$`)},
	{Code: "jtexpress", ZH: "极兔速递", EN: "J&T Express", Pattern: regexp.MustCompile(`^JT\d{13}$`)},
	{Code: "ems", ZH: "EMS", EN: "EMS", Pattern: regexp.MustCompile(`^(\d{13}|[A-Z]{2}\d{9}[A-Z]{2})$`)},
	{Code: LocalCarrier, ZH: "门店同城配送", EN: "Store's same-city rider", ColdChain: true, Untracked: true, Pattern: regexp.MustCompile(`^[A-Z0-9]{0,32}$`)},
}

// LocalCarrier is the store's own rider (same-city delivery): no tracking
// number is needed (the order number stands in for it).
const LocalCarrier = "local"

// CarrierByCode finds a carrier.
func CarrierByCode(code string) (Carrier, bool) {
	for _, c := range Carriers {
		if c.Code == code {
			return c, true
		}
	}
	return Carrier{}, false
}

// Stage of a parcel, as providers report it.
type Stage string

const (
	StageCollected  Stage = "collected"  // 揽收
	StageInTransit  Stage = "in_transit" // 在途
	StageDelivering Stage = "delivering" // 派件
	StageDelivered  Stage = "delivered"  // 签收
	StageProblem    Stage = "problem"    // 疑难 / 退签 / 拒签
	StageReturned   Stage = "returned"   // 退回
)

// Event is one line of the timeline.
type Event struct {
	At       time.Time `json:"at"`
	Stage    Stage     `json:"stage"`
	Text     string    `json:"text"`
	Location string    `json:"location,omitempty"`
	Source   string    `json:"source"` // the provider's name, or "manual"
}

// Track is what a provider knows about one parcel, newest event first.
type Track struct {
	Carrier    string  `json:"carrier"`
	TrackingNo string  `json:"tracking_no"`
	Stage      Stage   `json:"stage"`
	Delivered  bool    `json:"delivered"`
	Events     []Event `json:"events"`
}

// Tracker is a tracking provider.
type Tracker interface {
	Name() string
	// Track asks for a parcel's timeline; phone (the recipient's, or its
	// last four digits) is needed by some carriers.
	Track(ctx context.Context, carrier, trackingNo, phone string) (*Track, error)
}

// Errors of tracking (adapter level; not shown to buyers as such).
var (
	ErrUnknownCarrier = errors.New("delivery: unknown carrier")
	ErrTrackingNo     = errors.New("delivery: malformed tracking number")
	ErrNotFound       = errors.New("delivery: the provider has no record of this parcel yet")
	ErrProvider       = errors.New("delivery: the tracking provider refused or failed")
)

var trackingRE = regexp.MustCompile(`^[A-Za-z0-9]{6,32}$`)

// NormalizeTrackingNo trims and checks a tracking number (letters and
// digits, 6–32): what a clerk scans or types.
func NormalizeTrackingNo(s string) (string, error) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if !trackingRE.MatchString(s) {
		return "", ErrTrackingNo
	}
	return s, nil
}

// CheckTrackingNo normalizes a tracking number and checks it against the
// carrier's pattern (apperr codes unknown_carrier, invalid_tracking_no).
// The local rider needs none: "" stays "".
func CheckTrackingNo(carrier, no string) (Carrier, string, error) {
	c, ok := CarrierByCode(carrier)
	if !ok {
		return Carrier{}, "", ErrCarrier
	}
	no = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(no), " ", ""))
	if !c.Pattern.MatchString(no) {
		return c, "", ErrTrackingFormat.With("运单号格式与"+c.ZH+"不符", "That is not a "+c.EN+" tracking number.")
	}
	return c, no, nil
}
