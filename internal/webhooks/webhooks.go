// Package webhooks tells other systems (a supplier, an ERP, a WMS) what
// happened in a shop: merchants subscribe HTTPS endpoints to event types,
// and every event is delivered as a Standard Webhooks message
// (https://www.standardwebhooks.com: webhook-id, webhook-timestamp,
// webhook-signature) with retries for 24 hours.
//
// The package holds the rules (event types, endpoint validation, signing,
// the retry schedule, the address guard); sqldb stores endpoints and
// deliveries, and Dispatcher sends them.
package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// EventTypes are the events an endpoint may subscribe to. "webhook.test" is
// sent on request from the admin and to every endpoint regardless of its list.
var EventTypes = []string{
	"order.created", "order.paid", "order.cancelled", "order.refunded",
	"order.ready", "order.shipped", "order.completed",
	"lot.held", "lot.released",
	"room.started", "room.ended",
	"presale.reached", "presale.failed",
	"trial.selected", "trial.feedback",
}

// TestEvent is what "send a test" delivers.
const TestEvent = "webhook.test"

// Errors, one per code.
var (
	ErrURL         = apperr.InvalidField("url", "webhook_url_invalid", "回调地址须为 https:// 开头的完整网址", "The endpoint URL must be a full https:// URL.")
	ErrURLPrivate  = apperr.InvalidField("url", "webhook_url_private", "不允许向本机、内网或链路本地地址推送", "Deliveries to loopback, link-local or private addresses are not allowed on this install.")
	ErrEvents      = apperr.InvalidField("events", "webhook_events_invalid", "请选择要订阅的事件（至少一个已知事件）", "Choose at least one known event type.")
	ErrTooMany     = apperr.New(apperr.Conflict, "webhook_endpoint_limit", "每个商户最多 20 个回调地址", "A merchant may have at most 20 endpoints.")
	ErrNotReplay   = apperr.New(apperr.Conflict, "webhook_delivery_pending", "该投递仍在进行中，无需重放", "This delivery is still pending; nothing to replay.")
	ErrDescription = apperr.InvalidField("description", "webhook_description_too_long", "备注最多 200 字", "The description is at most 200 characters.")
)

// MaxEndpoints bounds endpoints per merchant (each event fans out to all).
const MaxEndpoints = 20

// Endpoint is a merchant's subscribed URL. Secret is shown once, at creation
// and rotation; lists carry SecretHint only.
type Endpoint struct {
	ID          int64    `json:"id"`
	MerchantID  int64    `json:"-"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret,omitempty"`
	SecretHint  string   `json:"secret_hint"`
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why ShelfLive switched the endpoint off (failures).
	DisabledReason string    `json:"disabled_reason,omitempty"`
	Failures       int       `json:"consecutive_failures"`
	CreatedAt      time.Time `json:"created_at"`
}

// Validate checks the URL shape and the event list; allowPrivate is the
// install's setting (tests and on-premise ERPs on a LAN).
func (e *Endpoint) Validate(allowPrivate bool) error {
	u, err := url.Parse(strings.TrimSpace(e.URL))
	if err != nil || u.Host == "" || u.User != nil || len(e.URL) > 2048 {
		return ErrURL
	}
	if u.Scheme != "https" && !(allowPrivate && u.Scheme == "http") {
		return ErrURL
	}
	if !allowPrivate && hostIsPrivate(u.Hostname()) {
		return ErrURLPrivate
	}
	e.URL = u.String()
	if len([]rune(e.Description)) > 200 {
		return ErrDescription
	}
	if len(e.Events) == 0 {
		return ErrEvents
	}
	seen := map[string]bool{}
	out := e.Events[:0]
	for _, ev := range e.Events {
		if !slices.Contains(EventTypes, ev) {
			return ErrEvents
		}
		if !seen[ev] {
			seen[ev] = true
			out = append(out, ev)
		}
	}
	slices.Sort(out)
	e.Events = out
	return nil
}

// Wants reports whether the endpoint subscribed to typ.
func (e *Endpoint) Wants(typ string) bool {
	return typ == TestEvent || slices.Contains(e.Events, typ)
}

// Delivery states.
const (
	Pending   = "pending"   // waiting for its next attempt
	Delivered = "delivered" // the endpoint answered 2xx
	Failed    = "failed"    // retries exhausted (24 h) or the endpoint was disabled
)

// Delivery is one message to one endpoint, with its attempts so far. The
// message id stays the same across retries and replays (receivers dedupe on it).
type Delivery struct {
	ID         int64     `json:"id"`
	EndpointID int64     `json:"endpoint_id"`
	MerchantID int64     `json:"-"`
	MessageID  string    `json:"message_id"`
	Type       string    `json:"type"`
	Payload    string    `json:"payload"`
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
	NextAt     time.Time `json:"next_at"`
	LastStatus int       `json:"last_status"` // HTTP status of the last attempt, 0 = no answer
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// FirstAt is when the first attempt was due; the 24 h retry window counts from it.
	FirstAt time.Time `json:"first_at"`
}

// Schedule is the retry ladder after a failed attempt n (1-based): the
// Standard Webhooks recommendation (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h),
// so the last attempt happens about 27 h 35 min after the first try, and
// none is started more than 24 h after the first plus its last gap.
var Schedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// RetryWindow is how long after the first attempt retries may still start.
const RetryWindow = 24 * time.Hour

// DisableAfter is how many deliveries in a row may fail for good before the
// endpoint is switched off (with a notice in the audit log and the admin).
const DisableAfter = 5

// NextAttempt returns when to try again after attempt n failed, or false
// when the delivery has failed for good.
func NextAttempt(first time.Time, attempts int, now time.Time) (time.Time, bool) {
	if attempts < 1 || attempts > len(Schedule) {
		return time.Time{}, false
	}
	next := now.Add(Schedule[attempts-1])
	if next.Sub(first) > RetryWindow+Schedule[len(Schedule)-1] {
		return time.Time{}, false
	}
	return next, true
}

// NewSecret makes a signing secret in the Standard Webhooks form
// "whsec_" + base64(24 random bytes).
func NewSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a "whsec_…" secret to its key bytes.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) < 16 {
		return nil, errors.New("webhooks: signing secret is not whsec_ + base64 of at least 16 bytes")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one message:
// "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)).
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Verify checks a received message the way a receiver should: the timestamp
// within tolerance of now, and one of the space-separated v1 signatures
// matching. Our own tests use it as the receiver.
func Verify(secret, msgID, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) bool {
	sec, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return false
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return false
	}
	want, err := Sign(secret, msgID, ts, body)
	if err != nil {
		return false
	}
	for _, s := range strings.Fields(sigHeader) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// NewMessageID returns a fresh "msg_…" id.
func NewMessageID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "msg_" + base64.RawURLEncoding.EncodeToString(b)
}

// Store keeps endpoints and deliveries. Every method is scoped by merchant
// except the dispatcher's, which work across merchants on the leader.
type Store interface {
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	DeleteEndpoint(ctx context.Context, merchantID, id int64) error
	Endpoint(ctx context.Context, merchantID, id int64) (*Endpoint, error)
	Endpoints(ctx context.Context, merchantID int64) ([]Endpoint, error)
	// Enqueue writes one delivery per enabled endpoint of the merchant that
	// wants typ. key makes it idempotent: the same (endpoint, key) is queued
	// once, so an event emitted twice (a provider's callback retried) is
	// delivered once. It returns how many deliveries were queued.
	Enqueue(ctx context.Context, merchantID int64, typ, key string, payload []byte, onlyEndpoint int64) (int, error)
	Deliveries(ctx context.Context, merchantID, endpointID int64, limit int) ([]Delivery, error)
	// Replay queues a finished delivery again (same message id) for now.
	Replay(ctx context.Context, merchantID, id int64) (*Delivery, error)
	// Due returns up to limit pending deliveries whose time has come.
	Due(ctx context.Context, limit int) ([]DueDelivery, error)
	// Finish records an attempt's outcome; when failedForGood, the endpoint's
	// failure streak grows and the endpoint is disabled at DisableAfter (the
	// returned bool says it just was).
	Finish(ctx context.Context, d *Delivery, failedForGood bool) (disabled bool, err error)
}

// DueDelivery is a delivery with what sending it needs.
type DueDelivery struct {
	Delivery
	URL    string
	Secret string
}
