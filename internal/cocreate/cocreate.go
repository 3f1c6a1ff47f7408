// Package cocreate holds co-creation (共创): a draft product — name, story,
// photos, origin — with option groups (口味, 规格, 包装 …) that fans vote on
// in a topic group's page and in live rooms. One vote per person per
// option group; a person may change it while the draft is open (the last
// choice counts), and not after it closes. The merchant turns the winning
// combination into a pre-sale to a minimum order (粉丝共创款) through the
// presale domain.
//
// Types and rules only; sqldb stores drafts and votes, app runs them and
// tells rooms and group pages (cocreate.results).
package cocreate

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/presale"
)

// Status of a draft.
type Status string

const (
	Open   Status = "open"   // taking votes
	Closed Status = "closed" // votes final (closed by staff, by its time, or turned into a pre-sale)
)

// Draft is a product not made yet, whose options the fans choose.
type Draft struct {
	ID         int64    `json:"id"`
	MerchantID int64    `json:"-"`
	Name       string   `json:"name"`
	Story      string   `json:"story"`
	Origin     string   `json:"origin"`
	Images     []string `json:"images"`
	// GroupID is the topic group whose page shows the draft (0: none).
	GroupID int64 `json:"group_id,omitempty"`
	// RoomID is the room the host last pushed the draft to (0: none).
	RoomID int64 `json:"room_id,omitempty"`
	// TrialID optionally names the trial (内测) whose results fed this
	// draft; kept as given, for the merchant's reference (0: none).
	TrialID int64         `json:"trial_id,omitempty"`
	Groups  []OptionGroup `json:"option_groups"`
	Status  Status        `json:"status"`
	// Voters counts the people who voted in at least one option group.
	Voters    int64      `json:"voters"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ClosesAt  *time.Time `json:"closes_at,omitempty"` // closes by itself then (nil: when staff close it)
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	// PresaleID is the pre-sale (粉丝共创款) made from the winning
	// combination (0: none yet).
	PresaleID int64 `json:"presale_id,omitempty"`
}

// OptionGroup is one choice fans make (口味), with its options.
type OptionGroup struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Options []Option `json:"options"`
	// Votes is the people who voted in this group (each counted once).
	Votes int64 `json:"votes"`
}

// Option is one answer of an option group (桂花味).
type Option struct {
	ID    int64  `json:"id"`
	Text  string `json:"text"`
	Votes int64  `json:"votes"`
}

// Limits of a draft.
const (
	MaxGroups  = 5
	MaxOptions = 8
	MaxImages  = 9
)

// Errors, one variable per code.
var (
	ErrName     = apperr.InvalidField("name", "cocreate_name_invalid", "共创新品名称须为 1–40 个字", "The draft's name must be 1–40 characters.")
	ErrText     = apperr.InvalidField("story", "cocreate_text_too_long", "故事最多 1000 字，产地最多 60 字", "The story is at most 1000 characters, the origin 60.")
	ErrImages   = apperr.InvalidField("images", "cocreate_images_invalid", "最多 9 张图片，须为本站上传的图片", "At most 9 images, uploaded here.")
	ErrGroups   = apperr.InvalidField("option_groups", "cocreate_options_invalid", "请给出 1–5 组选项，每组有名称（1–20 字）和 2–8 个不重复的选项（每个 1–30 字）", "Give 1–5 option groups, each with a name (1–20 characters) and 2–8 different options of 1–30 characters.")
	ErrDuration = apperr.InvalidField("closes_at", "cocreate_closes_invalid", "投票截止时间须在未来 60 天内", "Voting must close within the next 60 days.")
	ErrClosed   = apperr.New(apperr.Conflict, "cocreate_closed", "共创投票已结束", "Voting on this draft has closed.")
	ErrOption   = apperr.InvalidField("option_id", "cocreate_option_unknown", "没有这个选项", "No such option.")
	ErrPresale  = apperr.New(apperr.Conflict, "cocreate_presale_exists", "这个共创新品已经开启预售", "This draft already became a pre-sale.")
	ErrNoWinner = apperr.New(apperr.Conflict, "cocreate_no_winner", "每组选项都有人投票后才能生成预售", "Every option group needs votes before the draft can become a pre-sale.")
)

// Validate checks a new draft against now and tidies its text.
func (d *Draft) Validate(now time.Time) error {
	d.Name, d.Story, d.Origin = strings.TrimSpace(d.Name), strings.TrimSpace(d.Story), strings.TrimSpace(d.Origin)
	if n := utf8.RuneCountInString(d.Name); n == 0 || n > 40 {
		return ErrName
	}
	if utf8.RuneCountInString(d.Story) > 1000 {
		return ErrText
	}
	if utf8.RuneCountInString(d.Origin) > 60 {
		return ErrText.At("origin")
	}
	if d.Images == nil {
		d.Images = []string{}
	}
	if len(d.Images) > MaxImages {
		return ErrImages
	}
	for _, im := range d.Images {
		// the same rule as group posts: files uploaded here, no paths
		if !strings.HasPrefix(im, "/uploads/") || len(im) > 100 || strings.Contains(im[len("/uploads/"):], "/") {
			return ErrImages
		}
	}
	if len(d.Groups) == 0 || len(d.Groups) > MaxGroups {
		return ErrGroups
	}
	names := map[string]bool{}
	for i := range d.Groups {
		g := &d.Groups[i]
		g.Name = strings.TrimSpace(g.Name)
		if n := utf8.RuneCountInString(g.Name); n == 0 || n > 20 || names[g.Name] || len(g.Options) < 2 || len(g.Options) > MaxOptions {
			return ErrGroups
		}
		names[g.Name] = true
		seen := map[string]bool{}
		for j := range g.Options {
			o := &g.Options[j]
			o.Text = strings.TrimSpace(o.Text)
			if n := utf8.RuneCountInString(o.Text); n == 0 || n > 30 || seen[o.Text] {
				return ErrGroups
			}
			seen[o.Text] = true
			o.Votes = 0
		}
		g.Votes = 0
	}
	if d.ClosesAt != nil && (!d.ClosesAt.After(now) || d.ClosesAt.After(now.Add(60*24*time.Hour))) {
		return ErrDuration
	}
	return nil
}

// IsOpen reports whether votes are taken at now.
func (d *Draft) IsOpen(now time.Time) bool {
	return d.Status == Open && (d.ClosesAt == nil || now.Before(*d.ClosesAt))
}

// Winner is the leading option of each group (the first listed on a tie),
// in group order; ErrNoWinner when a group has no vote yet.
func (d *Draft) Winner() ([]Option, error) {
	out := make([]Option, 0, len(d.Groups))
	for _, g := range d.Groups {
		var best *Option
		for i := range g.Options {
			if g.Options[i].Votes > 0 && (best == nil || g.Options[i].Votes > best.Votes) {
				best = &g.Options[i]
			}
		}
		if best == nil {
			return nil, ErrNoWinner
		}
		out = append(out, *best)
	}
	return out, nil
}

// WinnerName is the product name of the winning combination: the draft's
// name and each group's winning option ("青稞冲饮粉 · 原味 · 500g").
func (d *Draft) WinnerName() (string, error) {
	w, err := d.Winner()
	if err != nil {
		return "", err
	}
	parts := []string{d.Name}
	for _, o := range w {
		parts = append(parts, o.Text)
	}
	return strings.Join(parts, " · "), nil
}

// Filter selects drafts in lists.
type Filter struct {
	Status  Status
	GroupID int64
	RoomID  int64
	Limit   int
}

// Store keeps drafts and votes. Every method but PublicDraft and DueDrafts
// scopes by merchant.
type Store interface {
	// CreateDraft stores d open with its option groups. Errors: not_found
	// (group_id, room_id of another shop).
	CreateDraft(ctx context.Context, d *Draft) error
	// Draft returns one draft with its counts. Errors: not_found.
	Draft(ctx context.Context, merchantID, id int64) (*Draft, error)
	// PublicDraft finds a draft by its id alone (its public card).
	PublicDraft(ctx context.Context, id int64) (*Draft, error)
	// Drafts lists drafts with their counts, newest first.
	Drafts(ctx context.Context, merchantID int64, f Filter) ([]Draft, error)
	// Vote records a customer's choice in the option's group — a second
	// vote in the same group replaces the first — and returns the counts,
	// in one transaction. Errors: not_found, cocreate_closed,
	// cocreate_option_unknown.
	Vote(ctx context.Context, merchantID, draftID, customerID, optionID int64, now time.Time) (*Draft, error)
	// MyVotes lists the option ids a customer chose, one per group voted.
	MyVotes(ctx context.Context, draftID, customerID int64) ([]int64, error)
	// CloseDraft closes an open draft (no-op when closed). Errors: not_found.
	CloseDraft(ctx context.Context, merchantID, id int64, now time.Time) (*Draft, error)
	// SetRoom records the room the draft was pushed to. Errors: not_found.
	SetRoom(ctx context.Context, merchantID, id, roomID int64) error
	// DueDrafts lists open drafts whose closing time passed (all shops).
	DueDrafts(ctx context.Context, now time.Time) ([]Draft, error)
	// ToPresale makes the winning combination a pre-sale in one
	// transaction: it creates prod (one SKU), opens ps of that SKU, and
	// closes the draft with the pre-sale linked; a draft linked already
	// is cocreate_presale_exists and nothing is created. Errors also
	// those of presale.Store.CreatePresale.
	ToPresale(ctx context.Context, merchantID, draftID int64, prod *catalog.Product, ps *presale.Presale) error
}
