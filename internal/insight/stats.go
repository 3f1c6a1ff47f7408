package insight

import (
	"context"
	"sort"
	"time"
)

// Span is one viewer session: a connection from Start to End (zero End:
// still watching).
type Span struct {
	Visitor    string
	Start, End time.Time
}

// ProductCounts is one product's funnel in a room. Shown, Opened and
// Checkout count distinct visitors; Orders and Paid count orders with a
// line of the product.
type ProductCounts struct {
	ProductID    int64      `json:"product_id"`
	Name         string     `json:"name"`
	NameEN       string     `json:"name_en,omitempty"`
	Shown        int64      `json:"shown"`
	Opened       int64      `json:"opened"`
	Checkout     int64      `json:"checkout"`
	Orders       int64      `json:"orders"`
	Paid         int64      `json:"paid"`
	Buyers       int64      `json:"buyers"` // distinct customers with a paid order of it
	Units        int64      `json:"units"`
	GMVFen       int64      `json:"gmv_fen"`
	FirstPinAt   *time.Time `json:"first_pin_at,omitempty"`
	FirstOrderAt *time.Time `json:"first_order_at,omitempty"`
}

// ShareCount is what one attribution code (a guide's or a viewer's share
// link) brought: links made and the orders placed through them.
type ShareCount struct {
	Code       string `json:"code"`
	Name       string `json:"name,omitempty"` // the guide's name when the code is a guide's
	Shares     int64  `json:"shares"`
	Orders     int64  `json:"orders"`
	Paid       int64  `json:"paid"`
	RevenueFen int64  `json:"revenue_fen"`
}

// Minute is a count in one minute (At is the minute's start, UTC).
type Minute struct {
	At time.Time `json:"at"`
	N  int64     `json:"n"`
}

// Activity is what the tables say about one room: the store reads it,
// Summarize turns it into dashboard numbers.
type Activity struct {
	Sessions  []Span
	Returning int64 // distinct visitors of this room seen in another room of the merchant before
	Products  []ProductCounts
	Shares    []ShareCount
	Comments  []Minute
	Likes     []Minute
	Orders    int64
	Paid      int64
	Buyers    int64 // distinct customers with a paid order
	GMVFen    int64 // paid orders, net of refunds
}

// ActivityStore reads a room's analytics from the tables.
type ActivityStore interface {
	RoomActivity(ctx context.Context, merchantID, roomID int64) (*Activity, error)
	// PairedOutcomes counts the distinct viewers shown product a's card in
	// room a and product b's in room b (the viewers an A/B comparison counts
	// twice) by their two outcomes: asked about a there and b there, bought
	// a there and b there. A viewer is the customer any of their events was
	// sent as (Event.CustomerID); one never logged in neither asked nor bought.
	PairedOutcomes(ctx context.Context, merchantID, roomA, productA, roomB, productB int64) (asked, bought Pairs, err error)
}

// RoomStats are the live dashboard's numbers for one room.
type RoomStats struct {
	RoomID           int64           `json:"room_id"`
	ViewersNow       int             `json:"viewers_now"`
	PeakViewers      int             `json:"peak_viewers"`
	UniqueViewers    int             `json:"unique_viewers"`
	Sessions         int             `json:"sessions"`
	AvgWatchSeconds  float64         `json:"avg_watch_seconds"` // total watch time / unique viewers
	NewViewers       int             `json:"new_viewers"`
	ReturningViewers int             `json:"returning_viewers"`
	Comments         []Minute        `json:"comments_per_minute"`
	Likes            []Minute        `json:"likes_per_minute"`
	Shares           []ShareCount    `json:"shares"`
	Products         []ProductCounts `json:"products"`
	Orders           int64           `json:"orders"`
	PaidOrders       int64           `json:"paid_orders"`
	Buyers           int64           `json:"buyers"`
	GMVFen           int64           `json:"gmv_fen"`
	Conversion       float64         `json:"conversion"` // buyers / unique viewers
	At               time.Time       `json:"at"`
}

// Summarize computes the dashboard numbers; open sessions count up to now.
func Summarize(roomID int64, a *Activity, now time.Time) RoomStats {
	st := RoomStats{RoomID: roomID, Comments: a.Comments, Likes: a.Likes, Shares: a.Shares, Products: a.Products,
		Orders: a.Orders, PaidOrders: a.Paid, Buyers: a.Buyers, GMVFen: a.GMVFen, At: now, Sessions: len(a.Sessions)}
	visitors := map[string]bool{}
	type edge struct {
		at time.Time
		d  int
	}
	edges := make([]edge, 0, 2*len(a.Sessions))
	var watch time.Duration
	for _, s := range a.Sessions {
		visitors[s.Visitor] = true
		end := s.End
		if end.IsZero() {
			end = now
		}
		if end.After(s.Start) {
			watch += end.Sub(s.Start)
		}
		edges = append(edges, edge{s.Start, 1})
		if !s.End.IsZero() {
			edges = append(edges, edge{s.End, -1})
		}
	}
	// Leaving before joining at the same instant: a reconnect is one viewer.
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].d < edges[j].d
		}
		return edges[i].at.Before(edges[j].at)
	})
	cur := 0
	for _, e := range edges {
		cur += e.d
		st.PeakViewers = max(st.PeakViewers, cur)
	}
	st.UniqueViewers = len(visitors)
	if st.UniqueViewers > 0 {
		st.AvgWatchSeconds = watch.Seconds() / float64(st.UniqueViewers)
		st.Conversion = float64(a.Buyers) / float64(st.UniqueViewers)
	}
	st.ReturningViewers = int(a.Returning)
	st.NewViewers = st.UniqueViewers - st.ReturningViewers
	if st.Comments == nil {
		st.Comments = []Minute{}
	}
	if st.Likes == nil {
		st.Likes = []Minute{}
	}
	if st.Shares == nil {
		st.Shares = []ShareCount{}
	}
	if st.Products == nil {
		st.Products = []ProductCounts{}
	}
	return st
}

// RoomSummary is one room in the brand view: its audience and sales.
type RoomSummary struct {
	RoomID        int64  `json:"room_id"`
	Slug          string `json:"slug"`
	Title         string `json:"title"`
	TitleEN       string `json:"title_en,omitempty"` // for the English dashboard
	Status        string `json:"status"`
	StoreID       int64  `json:"store_id,omitempty"`
	ViewersNow    int    `json:"viewers_now"`
	UniqueViewers int64  `json:"unique_viewers"`
	Orders        int64  `json:"orders"`
	Paid          int64  `json:"paid_orders"`
	GMVFen        int64  `json:"gmv_fen"`
}

// BrandStore reads every room's audience and sales of a merchant.
type BrandStore interface {
	BrandRooms(ctx context.Context, merchantID int64) ([]RoomSummary, error)
}
