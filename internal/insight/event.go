// Package insight listens to the room: analytics events (viewer sessions,
// card impressions and opens, checkout starts, shares, likes), what the
// comments ask for (product, intent, sentiment), A/B verdicts between two
// variants and the numbers of the live dashboard and post-live report.
// Everything here is recorded off the hot path: the room never waits for it.
package insight

import (
	"context"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
)

// Kind names what an analytics event records.
type Kind string

const (
	ViewStart Kind = "view_start" // a viewer's connection joined the room
	ViewEnd   Kind = "view_end"   // it left; Value is the watch time in ms
	CardShown Kind = "card_shown" // a product card appeared on a viewer's screen
	CardOpen  Kind = "card_open"  // the viewer opened the card (details, SKUs)
	Checkout  Kind = "checkout"   // the viewer started checkout (buy sheet)
	Share     Kind = "share"      // a share link was made; Code is the sharer's attribution code
	Likes     Kind = "likes"      // likes in one second; Value is the count
)

// ClientKinds are the kinds a viewer's page may report itself.
var ClientKinds = map[Kind]bool{CardShown: true, CardOpen: true, Checkout: true}

// Event is one analytics record. Visitor is the viewer's first-party id
// (stable across visits), Session one connection.
type Event struct {
	MerchantID int64  `json:"-"`
	RoomID     int64  `json:"room_id"`
	Kind       Kind   `json:"kind"`
	Visitor    string `json:"-"`
	Session    string `json:"-"`
	// CustomerID is the logged-in customer whose page sent the event (0:
	// none): it ties the visitor to the asker and buyer of the A/B pairs.
	CustomerID int64     `json:"-"`
	ProductID  int64     `json:"product_id,omitempty"`
	Code       string    `json:"code,omitempty"`
	Value      int64     `json:"value,omitempty"`
	At         time.Time `json:"at"`
}

// Errors of the analytics API.
var (
	ErrBadEvent   = apperr.InvalidField("kind", "invalid_event", "事件类型无效", "Unknown event kind.")
	ErrBadProduct = catalog.ErrUnknownProduct.With("商品不在本场直播中", "That product is not in this live.")
)

// ValidateClient checks an event a viewer's page sent: a known kind about a
// product of the room's lineup.
func (e *Event) ValidateClient(lineup []int64) error {
	if !ClientKinds[e.Kind] {
		return ErrBadEvent
	}
	for _, id := range lineup {
		if id == e.ProductID {
			return nil
		}
	}
	return ErrBadProduct
}

// EventStore keeps analytics events.
type EventStore interface {
	// AppendEvents stores a batch in one transaction.
	AppendEvents(ctx context.Context, evs []Event) error
}
