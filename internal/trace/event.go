// Package trace is the traceability domain: GS1 EPCIS 2.0 events captured
// from partners and from ShelfLive itself, the queries quality staff and the
// public trace pages run over them, and lot genealogy. Parsing and
// validating EPCIS documents lives in the subpackage trace/epcis; storage
// is behind EventStore (implemented by sqldb.EPCISStore).
package trace

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Event is one EPCIS event as stored: the event JSON exactly as the client
// sent it (plus eventID and recordTime) and the fields queries index. All
// identifiers in the indexed fields are normalised (GS1 keys as constrained
// canonical GS1 Digital Link URIs, CBV values as Web URIs) so that URN and
// Digital Link spellings of the same thing match.
type Event struct {
	EventID             string
	HashID              string // CBV 2.0 event hash, also for events that carry their own eventID
	Type                string // ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent
	EventTime           time.Time
	EventTimeZoneOffset string
	RecordTime          time.Time // set by the store at capture
	Action              string    // ADD, OBSERVE, DELETE; empty for TransformationEvent
	BizStep             string
	Disposition         string
	ReadPoint           string
	BizLocation         string
	TransformationID    string
	PersistentSet       []string
	PersistentUnset     []string
	EPCs                []EPCRef
	BizTransactions     []TypedID
	Sources             []TypedID
	Destinations        []TypedID
	Sensors             []SensorReport
	ILMD                json.RawMessage   // instance/lot master data, as captured
	ErrorDeclaration    *ErrorDeclaration // set when the event was declared erroneous
	JSON                json.RawMessage   // the event object to return to clients
	Context             json.RawMessage   // the capturing document's inline @context entries (namespaces of extensions)
}

// EPC roles say where in an event an identifier appears.
const (
	RoleEPC            = "epc"    // epcList
	RoleChild          = "child"  // childEPCs
	RoleParent         = "parent" // parentID
	RoleInput          = "input"  // inputEPCList
	RoleOutput         = "output" // outputEPCList
	RoleQuantity       = "qty"    // quantityList epcClass
	RoleChildQuantity  = "cqty"   // childQuantityList epcClass
	RoleInputQuantity  = "iqty"   // inputQuantityList epcClass
	RoleOutputQuantity = "oqty"   // outputQuantityList epcClass
	// RoleLot links a commissioning event to the lot (LGTIN) its ILMD
	// assigns its SGTINs to (cbvmda:lotNumber): serialised items carry no
	// lot in their identifier, so this is how lot genealogy finds them.
	RoleLot = "lot"
)

// EPCRef is an identifier and its role in an event. Quantity is set for
// class-level (quantity list) references.
type EPCRef struct {
	Role     string
	ID       string
	Quantity *float64
	UOM      string
}

// TypedID is a business transaction, source or destination: an identifier
// with an optional CBV type (full Web URI).
type TypedID struct {
	Type string
	ID   string
}

// SensorReport is one sensorReport of a sensorElement, with the numeric
// values converted to the canonical unit of their dimension (e.g. °C for
// any temperature) so that range queries compare like with like.
type SensorReport struct {
	Type      string // full IRI, e.g. https://gs1.org/voc/Temperature
	DeviceID  string
	Time      *time.Time
	UOM       string // canonical unit after conversion (as sent if not convertible)
	Value     *float64
	MinValue  *float64
	MaxValue  *float64
	MeanValue *float64
	RawUOM    string // the unit as sent
}

// ErrorDeclaration marks an event as erroneous (EPCIS 2.0 §7.4.1.4).
type ErrorDeclaration struct {
	DeclarationTime    time.Time
	Reason             string
	CorrectiveEventIDs []string
}

// CaptureJob is the status of one POST /epcis/capture.
type CaptureJob struct {
	ID         string
	MerchantID int64
	CreatedAt  time.Time
	FinishedAt *time.Time
	Running    bool
	Success    bool
	EventCount int // events in the document
	Stored     int // events newly stored
	Duplicates int // events already stored (same eventID), skipped
	Declared   int // stored events marked erroneous by an error declaration
	Errors     []string
}

// EventFilter is a parsed EPCIS query (see epcis.ParseQuery). Empty fields
// do not constrain; lists are OR within a field, fields are AND.
type EventFilter struct {
	EventTypes        []string
	GEEventTime       *time.Time
	LTEventTime       *time.Time
	GERecordTime      *time.Time
	LTRecordTime      *time.Time
	Actions           []string
	BizSteps          []string
	Dispositions      []string
	ReadPoints        []string
	BizLocations      []string
	EventIDs          []string
	TransformationIDs []string

	MatchEPC         []IDMatch // epcList, childEPCs
	MatchParentID    []IDMatch
	MatchInputEPC    []IDMatch
	MatchOutputEPC   []IDMatch
	MatchAnyEPC      []IDMatch // any instance-level role
	MatchEPCClass    []IDMatch // quantityList, childQuantityList
	MatchAnyEPCClass []IDMatch // any class-level role
	MatchLot         []IDMatch // events whose ILMD assigns their EPCs to this lot (RoleLot)

	BizTransactions []TypedIDFilter // EQ_bizTransaction_<type>
	Sources         []TypedIDFilter // EQ_source_<type>
	Destinations    []TypedIDFilter // EQ_destination_<type>

	ExistsSensorElement    bool
	Sensor                 *SensorFilter
	ExistsErrorDeclaration bool
	ErrorReasons           []string
	GEErrorDeclTime        *time.Time
	LTErrorDeclTime        *time.Time

	PerPage int
	After   *Cursor
	// WithEPCs asks the store to fill Event.EPCs (one extra indexed read
	// per page); the REST adapter does not need it, lot genealogy does.
	WithEPCs bool
}

// IDMatch matches an identifier exactly, or every identifier below a class
// (Prefix: a GTIN matches all its serials and lots).
type IDMatch struct {
	ID     string
	Prefix bool
}

// TypedIDFilter matches a business transaction/source/destination of a type.
type TypedIDFilter struct {
	Type string
	IDs  []string
}

// SensorFilter selects events with one sensor report that meets every
// condition. Values are in the canonical unit UOM.
type SensorFilter struct {
	Types     []string
	DeviceIDs []string
	UOM       string
	Value     []Comparison
}

// Comparison is one numeric condition on a sensor report field.
type Comparison struct {
	Field string // value, minValue, maxValue, meanValue
	Op    string // EQ, GT, GE, LT, LE
	Value float64
}

// Cursor is a position in the (eventTime, storage order) ordering of results.
type Cursor struct {
	EventTimeMS int64
	Seq         int64
}

// EventPage is one page of query results.
type EventPage struct {
	Events []Event
	Next   *Cursor // nil on the last page
}

// DefaultPerPage and MaxPerPage bound query pages (REST binding default 30).
const (
	DefaultPerPage = 30
	MaxPerPage     = 1000
)

// EventStore keeps EPCIS events per merchant (tenant).
type EventStore interface {
	// Capture stores a validated document's events for a merchant,
	// all-or-nothing, and records a capture job. Events whose eventID is
	// already stored are skipped (idempotent recapture). An event with an
	// errorDeclaration marks the stored event with the same eventID as
	// erroneous. Returns the finished job.
	Capture(ctx context.Context, merchantID int64, events []Event) (CaptureJob, error)
	// CaptureJob returns a job by ID; apperr.ErrNotFound for unknown IDs
	// and other merchants' jobs.
	CaptureJob(ctx context.Context, merchantID int64, id string) (CaptureJob, error)
	// QueryEvents returns events matching f, ordered by eventTime then
	// capture order, at most f.PerPage of them.
	QueryEvents(ctx context.Context, merchantID int64, f EventFilter) (EventPage, error)
	// EventByID returns one event; ErrEventNotFound if absent.
	EventByID(ctx context.Context, merchantID int64, eventID string) (Event, error)
}

// Errors of the trace domain.
var (
	ErrEventNotFound = apperr.New(apperr.NotFound, "epcis_event_not_found", "找不到该EPCIS事件", "No such EPCIS event.")
	ErrJobNotFound   = apperr.New(apperr.NotFound, "epcis_capture_not_found", "找不到该采集任务", "No such capture job.")
	ErrTooManyEvents = apperr.New(apperr.Invalid, "epcis_capture_limit", "单次采集的事件过多", "Too many events in one capture.")
)

// CaptureLimit is the most events one capture call may carry (announced
// in the GS1-EPCIS-Capture-Limit header).
const CaptureLimit = 10000
