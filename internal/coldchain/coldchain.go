// Package coldchain is the cold-chain telemetry domain: sensors (devices)
// bound to locations (cold rooms, trucks, display fridges) that belong to
// stores or carry a GS1 GLN, temperature readings, the temperature profile
// of each storage class (chilled, frozen, ambient), excursion rules with
// durations and hysteresis, missing-data detection, and per-lot evidence
// (mean kinetic temperature, time out of range). An excursion that affects
// a lot puts the lot on hold through the Holder interface, which the
// process wiring implements with the use-case layer, so that held stock is
// not sellable and rooms show the product as under review.
//
// The package knows no SQL and no MQTT: storage is behind Store
// (sqldb.ColdChainStore) and transports call Service.Ingest
// (internal/mqttingest, the HTTP gateway endpoint in internal/web).
package coldchain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Location kinds: where a sensor hangs.
const (
	KindColdRoom      = "cold_room"
	KindTruck         = "truck"
	KindDisplayFridge = "display_fridge"
	KindFreezer       = "freezer"
	KindWarehouse     = "warehouse"
	KindShelf         = "shelf"
)

// LocationKinds lists the kinds with what people call them (zh, en), in
// the order a form offers them.
var LocationKinds = []KindLabel{
	{KindColdRoom, "冷库", "Cold room"}, {KindTruck, "冷藏车", "Truck"}, {KindDisplayFridge, "展示冷柜", "Display fridge"},
	{KindFreezer, "冷冻柜", "Freezer"}, {KindWarehouse, "仓库", "Warehouse"}, {KindShelf, "货架", "Shelf"},
}

// KindLabel is a location kind and its names.
type KindLabel struct{ Kind, ZH, EN string }

var locationKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range LocationKinds {
		m[k.Kind] = true
	}
	return m
}()

// Location is a place whose temperature is watched. A location in a store
// (StoreID) covers the store's stock of its storage class; a location with a
// GLN (a GS1 Digital Link https://id.gs1.org/414/… or urn:epc:id:sgln:…)
// covers lots whose EPCIS events put them at that bizLocation (trucks,
// distribution centres).
type Location struct {
	ID         int64     `json:"id"`
	MerchantID int64     `json:"-"`
	Name       string    `json:"name"`
	NameEN     string    `json:"name_en,omitempty"`
	Kind       string    `json:"kind"`
	Class      string    `json:"storage_class"` // chilled | frozen | ambient (catalog.StorageClass values)
	StoreID    int64     `json:"store_id,omitempty"`
	GLN        string    `json:"gln,omitempty"` // normalised bizLocation identifier
	CreatedAt  time.Time `json:"created_at"`
}

var (
	// ErrLocationKind refuses an unknown location kind.
	ErrLocationKind = apperr.InvalidField("kind", "invalid_location_kind", "位置类型无效（cold_room/truck/display_fridge/freezer/warehouse/shelf）", "Unknown location kind (cold_room, truck, display_fridge, freezer, warehouse, shelf).")
	// ErrStorageClass refuses an unknown storage class.
	ErrStorageClass = apperr.InvalidField("storage_class", "invalid_storage_class", "储存类别须为 chilled、frozen 或 ambient", "Storage class must be chilled, frozen or ambient.")
	// ErrLocationUnbound refuses a location with neither store nor GLN.
	ErrLocationUnbound = apperr.InvalidField("store_id", "location_unbound", "位置须属于门店或带有 GLN", "A location needs a store or a GLN.")
	// ErrInvalidGLN refuses a GLN that is too long.
	ErrInvalidGLN = apperr.InvalidField("gln", "invalid_gln", "GLN 过长", "GLN is too long.")
)

// Validate checks a location before it is stored.
func (l *Location) Validate() error {
	l.Name, l.NameEN, l.GLN = strings.TrimSpace(l.Name), strings.TrimSpace(l.NameEN), strings.TrimSpace(l.GLN)
	if l.Name == "" || len([]rune(l.Name)) > 60 {
		return apperr.ErrInvalidName.With("名称必填，最多60个字", "Name is required (max 60 characters).")
	}
	if !locationKinds[l.Kind] {
		return ErrLocationKind
	}
	if _, ok := Profiles[l.Class]; !ok {
		return ErrStorageClass
	}
	if l.StoreID == 0 && l.GLN == "" {
		return ErrLocationUnbound
	}
	if len(l.GLN) > 200 {
		return ErrInvalidGLN
	}
	return nil
}

// Device is a sensor. Key is its public id: the MQTT username and the
// <device-id> of its topic; it is unique across the whole installation
// because MQTT authenticates before the client names a topic (and so before
// ShelfLive knows the merchant).
type Device struct {
	ID         int64      `json:"id"`
	MerchantID int64      `json:"-"`
	Key        string     `json:"device_id"`
	Name       string     `json:"name"`
	LocationID int64      `json:"location_id"`
	TokenHash  string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
}

var reDeviceKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ErrDeviceID refuses a device id outside the allowed characters or length.
var ErrDeviceID = apperr.InvalidField("device_id", "invalid_device_id", "设备编号为1-64位字母、数字、点、下划线或连字符", "Device id: 1-64 letters, digits, dot, underscore or hyphen.")

// Validate checks a device before it is stored. Keys are restricted to
// characters that are safe in an MQTT topic level (no + # /).
func (d *Device) Validate() error {
	d.Key, d.Name = strings.TrimSpace(d.Key), strings.TrimSpace(d.Name)
	if !reDeviceKey.MatchString(d.Key) {
		return ErrDeviceID
	}
	if d.Name == "" {
		d.Name = d.Key
	}
	if d.LocationID <= 0 {
		return apperr.ErrInvalidLocation.With("请选择位置", "Choose a location.")
	}
	return nil
}

// NewDeviceToken returns a random device token and the hash to store. The
// token is shown once; only the SHA-256 hash is kept, as for API tokens.
func NewDeviceToken() (token, hash string) {
	b := make([]byte, 24)
	rand.Read(b)
	token = "dev_" + hex.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how device tokens are stored and looked up.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// Reading is one sensor sample as it flows through ingest and storage.
// Times are unix milliseconds UTC; Hum is NaN when the sensor sent none.
type Reading struct {
	DevicePK   int64
	LocationID int64
	MerchantID int64
	TS         int64
	Temp       float64
	Hum        float64
}

// Point is a stored sample returned by queries.
type Point struct {
	TS   int64   `json:"ts"`
	Temp float64 `json:"t"`
	Hum  float64 `json:"-"`
}

// Rollup is a 5-minute aggregate of one device's readings, kept forever
// after the raw readings age out.
type Rollup struct {
	Bucket     int64   `json:"ts"` // bucket start, unix ms
	N          int64   `json:"n"`
	Min        float64 `json:"min"`
	Max        float64 `json:"max"`
	Sum        float64 `json:"-"`
	SumArrh    float64 `json:"-"` // Σ exp(-ΔH/RT), for mean kinetic temperature
	LocationID int64   `json:"-"`
}

// Avg is the bucket's mean temperature.
func (r Rollup) Avg() float64 {
	if r.N == 0 {
		return 0
	}
	return r.Sum / float64(r.N)
}

// RollupPeriod is the resolution of the downsampled history.
const RollupPeriod = 5 * time.Minute

// Alarm kinds and rules.
const (
	AlarmExcursion   = "excursion"
	AlarmMissingData = "missing_data"

	RuleCritical   = "critical"   // beyond the critical limit, at once
	RuleCumulative = "cumulative" // beyond the hard limit for longer than allowed, summed over the episode
	RuleGap        = "gap"        // no data for longer than the profile's MaxGap

	StatusOpen     = "open"     // condition still present
	StatusCleared  = "cleared"  // back in range (after hysteresis), waiting for a quality decision
	StatusResolved = "resolved" // quality decided (release or destroy); missing-data alarms resolve themselves

	DecisionRelease = "release"
	DecisionDestroy = "destroy"
)

// Alarm is an excursion or a data gap at a location. Excursion alarms hold
// the affected lots until quality staff decide.
type Alarm struct {
	ID           int64      `json:"id"`
	MerchantID   int64      `json:"-"`
	LocationID   int64      `json:"location_id"`
	LocationName string     `json:"location_name"`
	DevicePK     int64      `json:"-"`
	DeviceKey    string     `json:"device_id"`
	Kind         string     `json:"kind"`
	Rule         string     `json:"rule"`
	Class        string     `json:"storage_class"`
	StartedAt    time.Time  `json:"started_at"`
	DetectedAt   time.Time  `json:"detected_at"`
	ClearedAt    *time.Time `json:"cleared_at,omitempty"`
	Peak         float64    `json:"peak"`
	BeyondMS     int64      `json:"beyond_ms"` // time beyond the hard limit in the episode when detected
	Status       string     `json:"status"`
	Decision     string     `json:"decision,omitempty"`
	DecidedBy    string     `json:"-"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	Note         string     `json:"note,omitempty"`
	Lots         []AlarmLot `json:"lots"`
}

// AlarmLot is a lot an alarm affects.
type AlarmLot struct {
	LotID   int64  `json:"lot_id"`
	LotCode string `json:"lot_code"`
	Product string `json:"product"`
	Held    bool   `json:"held"`
}

// AlarmFilter selects alarms.
type AlarmFilter struct {
	MerchantID  int64
	Status      string // "" = all; open, cleared, resolved; "active" = open or cleared
	LotID       int64
	LocationIDs []int64
	Limit       int
}

// LotInfo is what the cold chain needs to know about a lot.
type LotInfo struct {
	ID           int64     `json:"id"`
	MerchantID   int64     `json:"-"`
	Code         string    `json:"code"`
	SKUID        int64     `json:"sku_id"`
	SKUName      string    `json:"sku_name"`
	GTIN         string    `json:"gtin"`
	ProductID    int64     `json:"product_id"`
	Product      string    `json:"product"`
	ProductEN    string    `json:"product_en"`
	Class        string    `json:"storage_class"`
	Origin       string    `json:"origin"`
	ProducedAt   time.Time `json:"produced_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	Hold         bool      `json:"hold"`
	HoldReason   string    `json:"hold_reason,omitempty"`
	MerchantName string    `json:"merchant"`
	MerchantSlug string    `json:"-"`
	StoreIDs     []int64   `json:"-"` // stores with stock of the lot now
	HeldStores   []int64   `json:"-"` // stores where only the lot's units there are held
}

// Holder puts lots on hold and releases them. The process wiring
// implements it with the use-case layer (app.SetHold republishes the
// product card to live rooms) and by releasing unpaid reservations on the
// lot, so that nothing whose cold chain broke can be sold.
type Holder interface {
	HoldLot(ctx context.Context, merchantID, lotID int64, reason string) error
	ReleaseLot(ctx context.Context, merchantID, lotID int64, reason string) error
}

// StoreHolder holds a lot's units in one store only: an excursion at a
// store's fridge says nothing about the same lot in the other stores, so
// only that store's stock stops selling (quality widens the hold to the
// whole lot by hand). A Holder without it holds the whole lot.
type StoreHolder interface {
	HoldLotAt(ctx context.Context, merchantID, lotID, storeID int64, reason string) error
	ReleaseLotAt(ctx context.Context, merchantID, lotID, storeID int64, reason string) error
}

// holdAt holds the lot where the location is: its store's units when the
// location belongs to a store and the holder can scope, else the lot.
func (s *Service) holdAt(ctx context.Context, merchantID, lotID int64, loc *Location, reason string) error {
	if sh, ok := s.Holder.(StoreHolder); ok && loc != nil && loc.StoreID != 0 {
		return sh.HoldLotAt(ctx, merchantID, lotID, loc.StoreID, reason)
	}
	return s.Holder.HoldLot(ctx, merchantID, lotID, reason)
}

// releaseAt lifts what holdAt placed.
func (s *Service) releaseAt(ctx context.Context, merchantID, lotID int64, loc *Location, reason string) error {
	if sh, ok := s.Holder.(StoreHolder); ok && loc != nil && loc.StoreID != 0 {
		return sh.ReleaseLotAt(ctx, merchantID, lotID, loc.StoreID, reason)
	}
	return s.Holder.ReleaseLot(ctx, merchantID, lotID, reason)
}

// Store persists the cold chain. Every method is scoped by merchant except
// the few that serve the ingest path across merchants (AllDevices,
// AppendReadings), whose rows carry their merchant.
type Store interface {
	CreateLocation(ctx context.Context, l *Location) error
	Location(ctx context.Context, merchantID, id int64) (*Location, error)
	ListLocations(ctx context.Context, merchantID int64) ([]Location, error)
	// CreateDevice stores a device with its token hash; a taken key is a
	// conflict.
	CreateDevice(ctx context.Context, d *Device) error
	ListDevices(ctx context.Context, merchantID int64) ([]Device, error)
	// AllDevices loads every device of every merchant for the ingest
	// registry, with the merchant's slug (the MQTT topic names it).
	AllDevices(ctx context.Context) ([]Device, map[int64]string, error)
	TouchDevices(ctx context.Context, lastSeen map[int64]int64) error

	// AppendReadings stores a batch compactly (one chunk per device) and
	// folds it into the 5-minute rollups, in one transaction.
	AppendReadings(ctx context.Context, rs []Reading) error
	// Points returns raw readings of locations in [from, to), ordered.
	Points(ctx context.Context, merchantID int64, locationIDs []int64, from, to int64) (map[int64][]Point, error)
	// DevicePoints returns one device's raw readings at a location in
	// [from, to), ordered (to rebuild rule state after a restart).
	DevicePoints(ctx context.Context, merchantID, locationID, devicePK, from, to int64) ([]Point, error)
	// Rollups returns 5-minute aggregates of locations in [from, to).
	Rollups(ctx context.Context, merchantID int64, locationIDs []int64, from, to int64) (map[int64][]Rollup, error)
	// DeleteRawBefore drops raw chunks that end before cutoff (rollups stay).
	DeleteRawBefore(ctx context.Context, cutoff int64) (int64, error)

	CreateAlarm(ctx context.Context, a *Alarm) error
	// ClearAlarm marks an open alarm cleared at t (missing-data alarms are
	// resolved at once: nobody has to decide on a gap that ended).
	ClearAlarm(ctx context.Context, merchantID, id int64, t time.Time) error
	AddAlarmLots(ctx context.Context, merchantID, alarmID int64, lots []AlarmLot) error
	Alarm(ctx context.Context, merchantID, id int64) (*Alarm, error)
	Alarms(ctx context.Context, f AlarmFilter) ([]Alarm, error)
	// DecideAlarm records a quality decision on an excursion alarm once;
	// deciding twice is a conflict.
	DecideAlarm(ctx context.Context, merchantID, id int64, decision, by, note string, at time.Time) error
	// OpenAlarmLots returns lots still tied to undecided excursion alarms
	// other than except (a lot stays held while any of them is undecided).
	OtherUndecidedAlarms(ctx context.Context, merchantID, lotID, except int64) (int, error)

	// LotsAtLocation returns lots with stock on hand in the location's
	// store whose product has the location's storage class.
	LotsAtLocation(ctx context.Context, merchantID, locationID int64) ([]AlarmLot, error)
	LotInfo(ctx context.Context, merchantID, lotID int64) (*LotInfo, error)
	// LocationsForLot returns the store locations of the lot's class in the
	// stores that hold the lot's stock.
	LocationsForLot(ctx context.Context, merchantID, lotID int64) ([]Location, error)
	LocationsByGLN(ctx context.Context, merchantID int64, glns []string) ([]Location, error)
	// WriteOffLot sets on-hand stock of the lot to what paid orders still
	// reserve, everywhere, and returns the units written off.
	// (storeID ≠ 0: only that store's units).
	WriteOffLot(ctx context.Context, merchantID, lotID, storeID int64) (int64, error)
	// PublicCode returns the lot's opaque public trace code, creating it once.
	PublicCode(ctx context.Context, merchantID, lotID int64) (string, error)
	// LotByPublicCode resolves a public code to (merchant, lot).
	LotByPublicCode(ctx context.Context, code string) (int64, int64, error)
	// CurrentLotByGTIN resolves a product's GTIN to the lot on sale now:
	// first expiry among unexpired lots not on hold with stock, else the
	// newest lot.
	CurrentLotByGTIN(ctx context.Context, gtin string) (int64, int64, error)
	// LotByGTIN resolves GTIN + lot code to (merchant, lot).
	LotByGTIN(ctx context.Context, gtin, lot string) (int64, int64, error)
}

// Errors of the cold-chain domain.
var (
	ErrUnknownDevice   = apperr.New(apperr.Unauthorized, "device_unauthorized", "设备未登记或令牌无效", "Unknown device or wrong token.")
	ErrBadReading      = apperr.New(apperr.Invalid, "invalid_reading", "读数格式错误", "Malformed reading.")
	ErrBusy            = apperr.New(apperr.TooMany, "ingest_busy", "写入繁忙，请稍后重试", "Ingest is busy; retry shortly.")
	ErrAlreadyDecided  = apperr.New(apperr.Conflict, "alarm_decided", "该告警已处理", "This alarm has already been decided.")
	ErrNotExcursion    = apperr.New(apperr.Conflict, "alarm_not_excursion", "只有温度超标告警需要处理决定", "Only excursion alarms take a decision.")
	ErrBadDecision     = apperr.ErrInvalidDecision.With("处理决定须为 release 或 destroy", "Decision must be release or destroy.")
	ErrLotNotFound     = apperr.New(apperr.NotFound, "lot_not_found", "找不到该批次", "No such lot.")
	ErrStillOutOfRange = apperr.New(apperr.Conflict, "alarm_still_open", "温度仍未恢复，暂不能放行", "The location is still out of range; it cannot be released yet.")
)
