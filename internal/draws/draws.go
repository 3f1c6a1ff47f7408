// Package draws holds 福袋 draws: viewers enter by commenting a keyword,
// liking or following within a window, once each; the winners are a
// deterministic function of a seed and the sorted list of eligible entries,
// and the seed's SHA-256 (the commitment) is public from the moment the
// draw opens, the seed itself only after it closed. Anyone can then
// recompute the winners (`shelflive draw verify`) and check that the seed
// matches the commitment published before anyone entered.
//
// Winners, precisely (Winners below; docs/PROTOCOL.md repeats it):
//
//  1. seed: 32 random bytes, published as 64 lowercase hex characters;
//     commitment = lowercase hex of SHA-256(seed bytes).
//  2. entries: the eligible entrants' customer ids, sorted ascending,
//     without duplicates; D = SHA-256 of the ids in decimal joined by "\n".
//  3. a byte stream: block j = SHA-256(seed bytes ‖ D ‖ j as 8 bytes big
//     endian), j = 0, 1, 2 …; each block is read as four 64-bit big-endian
//     unsigned integers, in order.
//  4. a partial Fisher–Yates shuffle: for i = 0 … k−1 (k = min(winners,
//     n)), m = n − i; take integers u from the stream until u < 2^64 −
//     (2^64 mod m); r = u mod m; swap entries[i] and entries[i+r].
//     The winners are entries[0…k) in that order.
//
// Bot rule (Exclude): applied when the draw closes, before the winners are
// computed; excluded entries are published with their reason, so the
// eligible list anyone verifies against is complete:
//   - one entry per device: an entry whose device fingerprint (a hash of
//     the browser's first-party visitor cookie, or of its address and user
//     agent without one) was already used by an earlier entry of the draw
//     is excluded ("same_device");
//   - bulk-new accounts: an entry whose account was created after the draw
//     opened is excluded ("bulk_new_account") when at least 5 of the draw's
//     entrants' accounts were created in that same clock minute (UTC) — a
//     burst of sign-ups to farm the draw; one newcomer is welcome.
package draws

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// EntryKind is how a viewer enters.
type EntryKind string

const (
	ByComment EntryKind = "comment" // a comment containing the keyword
	ByLike    EntryKind = "like"
	ByFollow  EntryKind = "follow" // 预约: subscribing to the room
)

// PrizeKind is what a winner gets.
type PrizeKind string

const (
	PrizeCoupon  PrizeKind = "coupon"   // one coupon of PrizeCouponID in the wallet
	PrizeFreeSKU PrizeKind = "free_sku" // a zero-price order of one PrizeSKUID, picked up at PrizeStoreID
)

// Status of a draw.
type Status string

const (
	Open  Status = "open"
	Drawn Status = "drawn"
)

// Draw is one 福袋.
type Draw struct {
	ID            int64      `json:"id"`
	MerchantID    int64      `json:"-"`
	RoomID        int64      `json:"room_id"`
	Title         string     `json:"title"`
	Entry         EntryKind  `json:"entry"`
	Keyword       string     `json:"keyword,omitempty"`
	Winners       int        `json:"winners"`
	PrizeKind     PrizeKind  `json:"prize_kind"`
	PrizeCouponID int64      `json:"prize_coupon_id,omitempty"`
	PrizeSKUID    int64      `json:"prize_sku_id,omitempty"`
	PrizeStoreID  int64      `json:"prize_store_id,omitempty"`
	Commitment    string     `json:"commitment"`
	Seed          string     `json:"seed,omitempty"` // only once drawn
	Status        Status     `json:"status"`
	OpensAt       time.Time  `json:"opens_at"`
	ClosesAt      time.Time  `json:"closes_at"`
	DrawnAt       *time.Time `json:"drawn_at,omitempty"`
	Entrants      int64      `json:"entrants"`
	CreatedAt     time.Time  `json:"created_at"`
	// AtStore, when set, is the one store a free item may be picked up at
	// (a store's host gives their store's stock only); another answers as
	// a store that does not exist. Not stored.
	AtStore int64 `json:"-"`

	seed string // kept until drawn
}

// SecretSeed is the seed the store keeps until the draw is drawn.
func (d *Draw) SecretSeed() string { return d.seed }

// SetSecretSeed is for the store that loads a draw.
func (d *Draw) SetSecretSeed(s string) { d.seed = s }

// Validate checks a new draw.
func (d *Draw) Validate() error {
	d.Title, d.Keyword = strings.TrimSpace(d.Title), strings.TrimSpace(d.Keyword)
	if n := len([]rune(d.Title)); n == 0 || n > 30 {
		return ErrTitle
	}
	switch d.Entry {
	case ByComment:
		if n := len([]rune(d.Keyword)); n == 0 || n > 20 {
			return ErrKeyword
		}
	case ByLike, ByFollow:
		d.Keyword = ""
	default:
		return ErrEntryKind
	}
	if d.Winners < 1 || d.Winners > 1000 {
		return ErrWinners
	}
	switch d.PrizeKind {
	case PrizeCoupon:
		if d.PrizeCouponID <= 0 {
			return ErrPrize
		}
	case PrizeFreeSKU:
		if d.PrizeSKUID <= 0 || d.PrizeStoreID <= 0 {
			return ErrPrize.With("免单奖品须指定商品规格和自提门店", "A free-item prize needs the SKU and the pickup store.")
		}
	default:
		return ErrPrize
	}
	if !d.ClosesAt.After(d.OpensAt) || d.ClosesAt.Sub(d.OpensAt) > 24*time.Hour {
		return ErrWindow
	}
	return nil
}

// Errors, each with a stable code.
var (
	ErrTitle     = apperr.InvalidField("title", "draw_title", "福袋名称须为1到30字", "The title needs 1 to 30 characters.")
	ErrKeyword   = apperr.InvalidField("keyword", "draw_keyword", "评论参与须设1到20字的口令", "A comment draw needs a keyword of 1 to 20 characters.")
	ErrEntryKind = apperr.InvalidField("entry", "draw_entry", "参与方式须为评论口令、点赞或关注", "Entry must be comment, like or follow.")
	ErrWinners   = apperr.InvalidField("winners", "draw_winners", "中奖人数须为1到1000", "Winners must be 1 to 1,000.")
	ErrPrize     = apperr.InvalidField("prize_kind", "draw_prize", "奖品须为优惠券或免单商品", "The prize must be a coupon or a free item.")
	// ErrPrizeCoupon: the prize coupon is not one the host may give: none,
	// another shop's, or one a store's host does not read; one answer, so
	// a refusal does not tell which.
	ErrPrizeCoupon = ErrPrize.With("奖品优惠券不存在", "Unknown prize coupon.")
	ErrWindow      = apperr.InvalidField("minutes", "draw_window", "参与时间须为1分钟到24小时", "The entry window must be 1 minute to 24 hours.")

	ErrClosed    = apperr.New(apperr.Conflict, "draw_closed", "福袋已截止", "This draw is closed.")
	ErrEntered   = apperr.New(apperr.Conflict, "draw_entered", "你已参与过这个福袋", "You already entered this draw.")
	ErrByComment = apperr.New(apperr.Conflict, "draw_needs_comment", "发送口令评论即可参与", "Comment the keyword to enter.")
)

// NewSeed draws a fresh seed and its commitment.
func NewSeed() (seed, commitment string) {
	b := make([]byte, 32)
	rand.Read(b)
	seed = hex.EncodeToString(b)
	c, _ := Commitment(seed)
	return seed, c
}

// ErrSeed: a seed must be 64 hex characters (32 bytes).
var ErrSeed = errors.New("draws: the seed must be 64 hexadecimal characters")

// Commitment is the lowercase hex SHA-256 of the seed's bytes.
func Commitment(seed string) (string, error) {
	b, err := hex.DecodeString(seed)
	if err != nil || len(b) != 32 {
		return "", ErrSeed
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// Normalize sorts entry ids ascending and drops duplicates and ids ≤ 0.
func Normalize(entries []int64) []int64 {
	out := slices.Clone(entries)
	slices.Sort(out)
	out = slices.Compact(out)
	for len(out) > 0 && out[0] <= 0 {
		out = out[1:]
	}
	return out
}

// Digest is D: SHA-256 of the sorted ids in decimal joined by "\n".
func Digest(sorted []int64) [32]byte {
	parts := make([]string, len(sorted))
	for i, id := range sorted {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return sha256.Sum256([]byte(strings.Join(parts, "\n")))
}

type stream struct {
	seed, digest []byte
	block        uint64
	buf          []byte
}

func (s *stream) next() uint64 {
	if len(s.buf) == 0 {
		var j [8]byte
		binary.BigEndian.PutUint64(j[:], s.block)
		s.block++
		h := sha256.New()
		h.Write(s.seed)
		h.Write(s.digest)
		h.Write(j[:])
		s.buf = h.Sum(nil)
	}
	v := binary.BigEndian.Uint64(s.buf[:8])
	s.buf = s.buf[8:]
	return v
}

// Winners computes the winners from the seed and the eligible entries
// (in any order; they are normalized first), as the package comment says.
func Winners(seed string, entries []int64, k int) ([]int64, error) {
	sb, err := hex.DecodeString(seed)
	if err != nil || len(sb) != 32 {
		return nil, ErrSeed
	}
	list := Normalize(entries)
	n := len(list)
	k = min(k, n)
	d := Digest(list)
	st := &stream{seed: sb, digest: d[:]}
	for i := 0; i < k; i++ {
		m := uint64(n - i)
		rem := (-m) % m // 2^64 mod m
		var u uint64
		for {
			u = st.next()
			if rem == 0 || u < -rem { // u < 2^64 − rem: no bias toward small r
				break
			}
		}
		r := int(u % m)
		list[i], list[i+r] = list[i+r], list[i]
	}
	return list[:k], nil
}

// Entrant is one entry as the bot rule sees it.
type Entrant struct {
	CustomerID       int64     `json:"id"`
	Name             string    `json:"name,omitempty"` // masked phone, for people to find themselves
	Via              EntryKind `json:"via"`
	Device           string    `json:"-"`
	EnteredAt        time.Time `json:"entered_at"`
	AccountCreatedAt time.Time `json:"-"`
	Excluded         string    `json:"excluded,omitempty"`
}

// BulkPerMinute is how many entrants' accounts made in one minute after
// the draw opened count as a bulk sign-up.
const BulkPerMinute = 5

// Exclude applies the bot rule to a draw that opened at opened: it
// returns, per excluded customer, why.
func Exclude(entries []Entrant, opened time.Time) map[int64]string {
	out := map[int64]string{}
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entrant) int {
		if c := a.EnteredAt.Compare(b.EnteredAt); c != 0 {
			return c
		}
		return int(a.CustomerID - b.CustomerID)
	})
	seen := map[string]bool{}
	for _, e := range sorted {
		if e.Device == "" {
			continue
		}
		if seen[e.Device] {
			out[e.CustomerID] = "same_device"
		}
		seen[e.Device] = true
	}
	perMinute := map[int64]int{}
	for _, e := range entries {
		if e.AccountCreatedAt.After(opened) {
			perMinute[e.AccountCreatedAt.Unix()/60]++
		}
	}
	for _, e := range entries {
		if _, done := out[e.CustomerID]; done {
			continue
		}
		if e.AccountCreatedAt.After(opened) && perMinute[e.AccountCreatedAt.Unix()/60] >= BulkPerMinute {
			out[e.CustomerID] = "bulk_new_account"
		}
	}
	return out
}

// Result is a drawn draw as anyone may read it: the revealed seed, the
// eligible entries (what the winners are computed from), the excluded ones
// with their reasons, and the winners in order.
type Result struct {
	Draw     Draw      `json:"draw"`
	Entries  []Entrant `json:"entries"`
	Excluded []Entrant `json:"excluded"`
	Winners  []Winner  `json:"winners"`
}

// Winner is one winner and what they got.
type Winner struct {
	CustomerID int64  `json:"id"`
	Name       string `json:"name,omitempty"`
	Position   int    `json:"position"`
	ClaimID    int64  `json:"claim_id,omitempty"`
	OrderID    int64  `json:"order_id,omitempty"`
}

// Store persists draws; each method is one transaction.
type Store interface {
	Create(ctx context.Context, d *Draw) error
	Get(ctx context.Context, merchantID, id int64) (*Draw, error)
	// ByID loads a draw by id alone (its public page).
	ByID(ctx context.Context, id int64) (*Draw, error)
	RoomDraws(ctx context.Context, merchantID, roomID int64) ([]Draw, error)
	// Enter records one entry; ErrEntered the second time, ErrClosed after
	// the window (checked on the locked row).
	Enter(ctx context.Context, merchantID, drawID int64, e Entrant) error
	// Entrants lists a draw's entries with their accounts' creation times.
	Entrants(ctx context.Context, drawID int64) ([]Entrant, error)
	// Due lists open draws whose window closed.
	Due(ctx context.Context, now time.Time) ([]Draw, error)
	// SaveResult marks the draw drawn once (false when it already was),
	// with the exclusions and the winners.
	SaveResult(ctx context.Context, drawID int64, excluded map[int64]string, winners []int64) (bool, error)
	// Result reads a drawn draw's published result.
	Result(ctx context.Context, drawID int64) (*Result, error)
	// PendingPrizes lists winners whose prize is not yet given.
	PendingPrizes(ctx context.Context) ([]PendingPrize, error)
	SetPrize(ctx context.Context, drawID, customerID, claimID, orderID int64) error
}

// PendingPrize is a winner still owed a prize.
type PendingPrize struct {
	Draw       Draw
	CustomerID int64
}

// Verification is what `shelflive draw verify` reports.
type Verification struct {
	CommitmentOK bool    `json:"commitment_ok"` // SHA-256(seed) equals the commitment published before the entries closed
	Entries      int     `json:"entries"`
	Winners      []int64 `json:"winners"`   // recomputed
	Published    []int64 `json:"published"` // what the shop announced (when known)
	Match        bool    `json:"match"`     // recomputed = published
}

// Verify recomputes a draw: the commitment check (when commitment is
// given) and the winners from the seed and the entries, compared with the
// published winners (when given).
func Verify(seed, commitment string, entries []int64, k int, published []int64) (*Verification, error) {
	w, err := Winners(seed, entries, k)
	if err != nil {
		return nil, err
	}
	v := &Verification{Entries: len(Normalize(entries)), Winners: w, Published: published}
	if commitment != "" {
		c, _ := Commitment(seed)
		v.CommitmentOK = strings.EqualFold(c, commitment)
	}
	v.Match = published == nil || slices.Equal(w, published)
	return v, nil
}
