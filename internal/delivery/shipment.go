package delivery

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Shipment is a delivery order's parcel: who carries it under which
// number, where it is (Stage, the newest event's) and its timeline. A
// delivered shipment is closed: the order is completed then, which starts
// its after-sales window as a pickup at the counter does.
type Shipment struct {
	ID          int64      `json:"id"`
	MerchantID  int64      `json:"-"`
	OrderID     int64      `json:"order_id"`
	OrderNumber string     `json:"order_number"`
	StoreID     int64      `json:"store_id"`
	CustomerID  int64      `json:"-"`
	Phone       string     `json:"-"` // the recipient's, for carriers that want its last digits
	Carrier     string     `json:"carrier"`
	CarrierZH   string     `json:"carrier_zh"`
	CarrierEN   string     `json:"carrier_en"`
	TrackingNo  string     `json:"tracking_no"`
	Stage       Stage      `json:"stage"`
	Delivered   bool       `json:"delivered"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	ShippedAt   time.Time  `json:"shipped_at"`
	ShippedBy   string     `json:"shipped_by,omitempty"`
	PolledAt    *time.Time `json:"polled_at,omitempty"`
	PollError   string     `json:"poll_error,omitempty"`
	// PollFailures counts the provider's failures in a row (backoff).
	PollFailures int     `json:"-"`
	Events       []Event `json:"events"`
}

// Ship is staff's "shipped with carrier X under number N".
type Ship struct {
	MerchantID int64
	OrderID    int64
	StoreID    int64 // staff bound to a store: only that store's orders
	Carrier    string
	TrackingNo string
	Actor      string
}

// Update is one timeline entry written by staff (a phone call from the
// rider, a parcel the provider does not know).
type Update struct {
	MerchantID int64
	OrderID    int64
	StoreID    int64
	Event      Event
	Actor      string
}

// Stages staff may write by hand.
var manualStages = map[Stage]bool{StageCollected: true, StageInTransit: true, StageDelivering: true, StageDelivered: true, StageProblem: true, StageReturned: true}

// Limits of a manual entry.
const (
	MaxTextRunes     = 200
	MaxLocationRunes = 60
)

// Shipment errors, each code declared once.
var (
	ErrCarrier          = apperr.InvalidField("carrier", "unknown_carrier", "请选择快递公司", "Choose a known carrier.")
	ErrTrackingFormat   = apperr.InvalidField("tracking_no", "invalid_tracking_no", "运单号格式不正确", "That tracking number is not valid for the carrier.")
	ErrShipmentRequired = apperr.New(apperr.Conflict, "shipment_required", "配送订单发货须填写快递公司和运单号", "A delivery order is shipped with a carrier and tracking number (POST /api/v1/orders/{id}/shipment).")
	ErrDelivered        = apperr.New(apperr.Conflict, "shipment_delivered", "包裹已签收，不能再更改", "The parcel was delivered; the shipment is closed.")
	ErrNoShipment       = apperr.New(apperr.NotFound, "shipment_not_found", "该订单尚未发货", "This order has not been shipped yet.")
	ErrStage            = apperr.InvalidField("stage", "invalid_stage", "物流状态无效", "Unknown parcel stage.")
	ErrText             = apperr.InvalidField("text", "invalid_tracking_text", "请填写1到200字的物流说明，地点最多60字", "Describe the update in 1 to 200 characters; the place in at most 60.")
)

// Validate checks a manual update and fills its source.
func (u *Update) Validate(now time.Time) error {
	e := &u.Event
	if !manualStages[e.Stage] {
		return ErrStage
	}
	e.Text, e.Location = strings.TrimSpace(e.Text), strings.TrimSpace(e.Location)
	if e.Text == "" || utf8.RuneCountInString(e.Text) > MaxTextRunes || utf8.RuneCountInString(e.Location) > MaxLocationRunes {
		return ErrText
	}
	e.At, e.Source = now, "manual"
	return nil
}

// StageZH names a stage for the buyer's inbox.
func StageZH(s Stage) string {
	return map[Stage]string{StageCollected: "已揽收", StageInTransit: "运输中", StageDelivering: "派送中", StageDelivered: "已签收", StageProblem: "包裹异常", StageReturned: "已退回"}[s]
}

// PollAt is when the leader asks the provider again about an open
// parcel: every 30 minutes while it moves, hourly while the provider has
// no record yet (a courier scans parcels in batches), doubling after
// failures up to 6 hours.
func PollAt(now time.Time, every time.Duration, failures int) time.Time {
	if every <= 0 {
		every = 30 * time.Minute
	}
	d := every
	for i := 0; i < failures && d < 6*time.Hour; i++ {
		d *= 2
	}
	return now.Add(min(d, 6*time.Hour))
}

// TrackerActor is who the timeline's automatic entries are by.
const TrackerActor = "system:tracking"

// Store keeps shipments and their timelines.
type Store interface {
	// Ship records the carrier and number on a paid delivery order and
	// moves it to shipped in one transaction (stock consumed, audit entry,
	// the buyer's inbox message and channels). Shipping an order again
	// corrects the carrier or number (audited) until it is delivered.
	// Errors: not_found, pickup_not_shipped, invalid_transition,
	// lot_on_hold, shipment_delivered.
	Ship(ctx context.Context, s Ship) (*Shipment, error)
	// Shipment is an order's shipment with its timeline, newest first.
	// Errors: shipment_not_found.
	Shipment(ctx context.Context, merchantID, orderID int64) (*Shipment, error)
	// AddEvents adds timeline entries once each (a provider's answer may
	// repeat them) and moves the stage to stage; delivered closes the
	// shipment and completes the order, once, whoever gets there first.
	// Errors: shipment_not_found, shipment_delivered (a manual entry after
	// delivery).
	AddEvents(ctx context.Context, merchantID, shipmentID int64, events []Event, stage Stage, actor string) (*Shipment, error)
	// Record adds a staff member's manual entry (AddEvents for one order).
	Record(ctx context.Context, u Update) (*Shipment, error)
	// ClaimPolls takes up to limit open, tracked shipments due for a poll
	// and moves their next poll lease ahead, so a second claimer (another
	// node during a leader change) skips them.
	ClaimPolls(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Shipment, error)
	// Polled records a poll's outcome: when to ask next and the error.
	Polled(ctx context.Context, shipmentID int64, now, next time.Time, failures int, errText string) error
}
