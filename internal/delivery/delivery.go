// Package delivery holds what a parcel's journey looks like to ShelfLive:
// the carriers a shop ships with (their codes at the tracking providers),
// a status timeline of events, and the Tracker interface a tracking
// provider (kuaidi100, …) implements. It imports no adapter.
//
// Status so far: the provider side only (this package and
// delivery/kuaidi100 with its local fake). Recording a carrier and
// tracking number on an order, manual updates, the timeline on the order
// page, same-city delivery fees and slots and the insulated-packing flag
// are not built yet (issue 17 item 4).
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
}

// Carriers are the couriers offered, most used first.
var Carriers = []Carrier{
	{"shunfeng", "顺丰速运", "SF Express", true, true},
	{"shunfenglengyun", "顺丰冷运", "SF Cold Chain", true, true},
	{"jd", "京东物流", "JD Logistics", false, true},
	{"zhongtong", "中通快递", "ZTO Express", false, false},
	{"yuantong", "圆通速递", "YTO Express", false, false},
	{"yunda", "韵达快递", "Yunda Express", false, false},
	{"shentong", "申通快递", "STO Express", false, false},
	{"jtexpress", "极兔速递", "J&T Express", false, false},
	{"ems", "EMS", "EMS", false, false},
}

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
