// Package trials holds new-product trials (内测): a merchant offers a
// number of free samples of one SKU (the quota), fans apply within a window
// by answering a short form the merchant wrote, once each; when the window
// closes the chosen applicants are picked fairly and get a zero-price
// sample order (pickup or delivery, stock reserved like any order), the
// others a kind note; the chosen rate the sample (1–5 on four dimensions,
// plus text) once it was picked up or shipped, and are reminded when they
// have not after the trial's number of days. The results (distributions,
// response rate, text answers) feed co-creation.
//
// Fair selection reuses the 福袋 draws' rule (internal/draws): the seed's
// SHA-256 (the commitment) is public while applications are open, the
// seed only after the selection, and the chosen are draws.Winners of the
// seed and the sorted eligible applicants — applicants the bot rule
// (draws.Exclude: one per device, bursts of new accounts) leaves in.
// With the rule "group first" (SelectGroupFirst) the eligible applicants
// are split into two tiers: members of the trial's topic group, then
// everyone else; tier 1's chosen are Winners(seed, tier 1, quota) and
// tier 2's Winners(seed, tier 2, quota − chosen in tier 1). Each tier is
// published as a draw document (GET /api/v1/trials/{id}/draw?tier=N), so
// `shelflive draw verify --url …` recomputes each one.
package trials

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/draws"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/order"
)

// Status of a trial.
type Status string

const (
	Open     Status = "open"     // applications are taken until ClosesAt
	Selected Status = "selected" // the chosen are fixed and the seed revealed
)

// Selection is the rule the merchant states for choosing.
type Selection string

const (
	SelectRandom     Selection = "random"      // everyone eligible alike
	SelectGroupFirst Selection = "group_first" // members of GroupID first, then everyone else, each tier at random
)

// Question kinds of the application form.
const (
	QText   = "text"
	QChoice = "choice"
)

// Question is one question of the application form.
type Question struct {
	ID       string   `json:"id"` // q1, q2 … (set by Validate)
	Kind     string   `json:"kind"`
	Label    string   `json:"label"`
	LabelEN  string   `json:"label_en,omitempty"`
	Options  []string `json:"options,omitempty"` // QChoice: 2–8 options
	Required bool     `json:"required"`
}

// Trial is one trial campaign.
type Trial struct {
	ID          int64  `json:"id"`
	MerchantID  int64  `json:"-"`
	Title       string `json:"title"`
	Description string `json:"description"`
	SKUID       int64  `json:"sku_id"`
	ProductID   int64  `json:"product_id"`
	ProductName string `json:"product_name"`
	// ProductNameEN: the product's English name, when it has one.
	ProductNameEN string     `json:"product_name_en,omitempty"`
	SKUName       string     `json:"sku_name"`
	PriceFen      int64      `json:"price_fen"` // the SKU's price: what the sample would cost
	Image         string     `json:"image,omitempty"`
	Quota         int        `json:"quota"`
	Questions     []Question `json:"questions"`
	// Segment, when set, restricts applying to a member segment (a topic
	// group is members.SegFanGroup).
	Segment *members.Segment `json:"segment,omitempty"`
	// GroupID shows the trial on that topic group's page and is the first
	// tier of SelectGroupFirst.
	GroupID      int64            `json:"group_id,omitempty"`
	RoomID       int64            `json:"room_id,omitempty"` // shows a card in that room
	Fulfilment   order.Fulfilment `json:"fulfilment"`
	StoreID      int64            `json:"store_id,omitempty"` // pickup store
	Selection    Selection        `json:"selection"`
	FeedbackDays int              `json:"feedback_days"` // remind after this many days without feedback
	PublicResult bool             `json:"public_result"` // the results summary is public
	Commitment   string           `json:"commitment"`
	Seed         string           `json:"seed,omitempty"` // only once selected
	Status       Status           `json:"status"`
	OpensAt      time.Time        `json:"opens_at"`
	ClosesAt     time.Time        `json:"closes_at"`
	SelectedAt   *time.Time       `json:"selected_at,omitempty"`
	Applicants   int64            `json:"applicants"`
	Chosen       int64            `json:"chosen"`
	CreatedAt    time.Time        `json:"created_at"`

	seed string
}

// SecretSeed is the seed the store keeps until the selection.
func (t *Trial) SecretSeed() string { return t.seed }

// SetSecretSeed is for the store that loads a trial.
func (t *Trial) SetSecretSeed(s string) { t.seed = s }

// ErrNotInSegment is the members domain's segment_required, worded for a trial.
var ErrNotInSegment = members.ErrNotInSegment.With("这个内测只对指定会员或粉丝群成员开放", "This trial is open to a member segment or topic group only.")

// Errors, one variable per code.
var (
	ErrTitle       = apperr.InvalidField("title", "trial_title_invalid", "标题 1–40 字，介绍最多 1000 字", "The title is 1–40 characters, the description at most 1,000.")
	ErrQuota       = apperr.InvalidField("quota", "trial_quota_invalid", "名额须为 1 到 1000", "The quota must be 1 to 1,000.")
	ErrWindow      = apperr.InvalidField("closes_at", "trial_window_invalid", "申请时间须为 10 分钟到 30 天，且截止时间在将来", "Applications must run 10 minutes to 30 days and close in the future.")
	ErrQuestions   = apperr.InvalidField("questions", "trial_questions_invalid", "最多 8 个问题；每题 1–60 字，选择题 2–8 个选项（每项最多 30 字）", "At most 8 questions of 1–60 characters; a choice question has 2–8 options of at most 30 characters.")
	ErrFulfilment  = apperr.InvalidField("fulfilment", "trial_fulfilment_invalid", "领取方式须为到店自提（并指定门店）或配送", "Choose store pickup (with its store) or delivery.")
	ErrSelection   = apperr.InvalidField("selection", "trial_selection_invalid", "抽选规则须为随机，或粉丝群成员优先（并指定粉丝群）", "The rule is random, or group members first (with the group).")
	ErrFeedbackDay = apperr.InvalidField("feedback_days", "trial_feedback_days_invalid", "反馈提醒须在领取后 1–30 天", "Feedback reminders go 1–30 days after handover.")

	ErrClosed       = apperr.New(apperr.Conflict, "trial_closed", "内测申请已截止", "Applications for this trial are closed.")
	ErrApplied      = apperr.New(apperr.Conflict, "trial_applied", "你已申请过这个内测", "You already applied for this trial.")
	ErrAnswers      = apperr.InvalidField("answers", "trial_answers_invalid", "请回答申请表中的必答题（文字最多 500 字，选择题须选给出的选项）", "Answer the required questions (text up to 500 characters; choose one of the given options).")
	ErrAddress      = apperr.InvalidField("address", "trial_address_required", "配送的内测须填写收货人和地址", "A delivered sample needs a recipient and an address.")
	ErrNotChosen    = apperr.New(apperr.Conflict, "trial_not_chosen", "只有入选的试用者可以填写反馈", "Only chosen testers can leave feedback.")
	ErrNotReceived  = apperr.New(apperr.Conflict, "trial_sample_not_received", "领取样品后才能填写反馈", "Leave feedback once you have your sample.")
	ErrFeedbackDone = apperr.New(apperr.Conflict, "trial_feedback_given", "你已提交过反馈，谢谢！", "You already left feedback — thank you!")
	ErrNoncompliant = apperr.New(apperr.Conflict, "trial_noncompliant", "内测标题或介绍含有违规用语，请修改", "The title or description breaks advertising rules; change it.")
	ErrRatings      = apperr.InvalidField("ratings", "trial_ratings_invalid", "每项评分须为 1 到 5，文字最多 1000 字", "Each rating is 1 to 5; the text at most 1,000 characters.")
)

// Limits.
const (
	MaxQuota     = 1000
	MaxQuestions = 8
	MaxAnswer    = 500
)

// Validate checks a new trial (the store checks the SKU, store and group).
// It is long because it is the list of a trial's field rules, one check a
// field.
func (t *Trial) Validate(now time.Time) error {
	t.Title, t.Description = strings.TrimSpace(t.Title), strings.TrimSpace(t.Description)
	if n := utf8.RuneCountInString(t.Title); n == 0 || n > 40 || utf8.RuneCountInString(t.Description) > 1000 {
		return ErrTitle
	}
	if t.SKUID <= 0 {
		return catalog.ErrUnknownSKU
	}
	if t.Quota < 1 || t.Quota > MaxQuota {
		return ErrQuota
	}
	if d := t.ClosesAt.Sub(t.OpensAt); d < 10*time.Minute || d > 30*24*time.Hour || !t.ClosesAt.After(now) {
		return ErrWindow
	}
	if t.Questions == nil {
		t.Questions = []Question{}
	}
	if len(t.Questions) > MaxQuestions {
		return ErrQuestions
	}
	for i := range t.Questions {
		q := &t.Questions[i]
		q.ID = "q" + string(rune('1'+i))
		q.Label, q.LabelEN = strings.TrimSpace(q.Label), strings.TrimSpace(q.LabelEN)
		if n := utf8.RuneCountInString(q.Label); n == 0 || n > 60 || utf8.RuneCountInString(q.LabelEN) > 120 {
			return ErrQuestions
		}
		switch q.Kind {
		case QText:
			q.Options = nil
		case QChoice:
			if len(q.Options) < 2 || len(q.Options) > 8 {
				return ErrQuestions
			}
			for j, o := range q.Options {
				o = strings.TrimSpace(o)
				if o == "" || utf8.RuneCountInString(o) > 30 || slices.Contains(q.Options[:j], o) {
					return ErrQuestions
				}
				q.Options[j] = o
			}
		default:
			return ErrQuestions
		}
	}
	switch t.Fulfilment {
	case order.Pickup:
		if t.StoreID <= 0 {
			return ErrFulfilment
		}
	case order.Delivery:
		t.StoreID = 0
	default:
		return ErrFulfilment
	}
	if t.Segment != nil {
		if err := t.Segment.Validate(); err != nil {
			return err
		}
		if t.Segment.Kind == members.SegFanGroup && t.GroupID == 0 {
			t.GroupID = t.Segment.GroupID
		}
	}
	switch t.Selection {
	case "":
		t.Selection = SelectRandom
	case SelectRandom:
	case SelectGroupFirst:
		if t.GroupID <= 0 {
			return ErrSelection
		}
	default:
		return ErrSelection
	}
	if t.FeedbackDays == 0 {
		t.FeedbackDays = 3
	}
	if t.FeedbackDays < 1 || t.FeedbackDays > 30 {
		return ErrFeedbackDay
	}
	return nil
}

// Application is one fan's application.
type Application struct {
	TrialID     int64             `json:"trial_id"`
	CustomerID  int64             `json:"-"`
	Name        string            `json:"name,omitempty"` // masked phone
	Answers     map[string]string `json:"answers"`
	ContactName string            `json:"contact_name,omitempty"`
	Address     string            `json:"address,omitempty"`
	Device      string            `json:"-"`
	AppliedAt   time.Time         `json:"applied_at"`
	// Set by the selection.
	Excluded string `json:"excluded,omitempty"` // the bot rule's reason
	Tier     int    `json:"tier,omitempty"`     // 1 or 2 (group first), 1 (random); 0 excluded or not yet selected
	Position int    `json:"position,omitempty"` // 1… among the chosen; 0 not chosen
	OrderID  int64  `json:"order_id,omitempty"` // the sample order
	// Read with the application.
	AccountCreatedAt time.Time `json:"-"`
	InGroup          bool      `json:"-"` // a member of the trial's group now
}

// CheckAnswers validates an application against the trial's form and
// keeps only answers to its questions.
func (t *Trial) CheckAnswers(a *Application) error {
	clean := map[string]string{}
	for _, q := range t.Questions {
		v := strings.TrimSpace(a.Answers[q.ID])
		if v == "" {
			if q.Required {
				return ErrAnswers.At("answers." + q.ID)
			}
			continue
		}
		if utf8.RuneCountInString(v) > MaxAnswer || (q.Kind == QChoice && !slices.Contains(q.Options, v)) {
			return ErrAnswers.At("answers." + q.ID)
		}
		clean[q.ID] = v
	}
	a.Answers = clean
	a.ContactName, a.Address = strings.TrimSpace(a.ContactName), strings.TrimSpace(a.Address)
	if t.Fulfilment == order.Delivery {
		if a.ContactName == "" || a.Address == "" || utf8.RuneCountInString(a.ContactName) > 30 || utf8.RuneCountInString(a.Address) > 200 {
			return ErrAddress
		}
	} else {
		a.ContactName, a.Address = "", ""
	}
	return nil
}

// Choice is a selection's outcome: the bot rule's exclusions, the tiers of
// eligible applicants (sorted) and the chosen in order.
type Choice struct {
	Excluded map[int64]string
	Tiers    [][]int64 // tier 1, then tier 2 (group first only)
	Chosen   []int64
	Tier     map[int64]int // eligible applicant → tier (1-based)
}

// Choose applies the bot rule and the trial's selection rule to the
// applications (AccountCreatedAt and InGroup filled), as the package
// comment says; it never chooses more than the quota.
func Choose(t *Trial, seed string, apps []Application) (*Choice, error) {
	ents := make([]draws.Entrant, len(apps))
	for i, a := range apps {
		ents[i] = draws.Entrant{CustomerID: a.CustomerID, Device: a.Device, EnteredAt: a.AppliedAt, AccountCreatedAt: a.AccountCreatedAt}
	}
	c := &Choice{Excluded: draws.Exclude(ents, t.OpensAt), Tier: map[int64]int{}}
	var first, rest []int64
	for _, a := range apps {
		if c.Excluded[a.CustomerID] != "" {
			continue
		}
		if t.Selection == SelectGroupFirst && !a.InGroup {
			rest = append(rest, a.CustomerID)
		} else {
			first = append(first, a.CustomerID)
		}
	}
	c.Tiers = [][]int64{draws.Normalize(first)}
	if t.Selection == SelectGroupFirst {
		c.Tiers = append(c.Tiers, draws.Normalize(rest))
	}
	left := t.Quota
	for i, tier := range c.Tiers {
		for _, id := range tier {
			c.Tier[id] = i + 1
		}
		w, err := draws.Winners(seed, tier, left)
		if err != nil {
			return nil, err
		}
		c.Chosen = append(c.Chosen, w...)
		left -= len(w)
	}
	return c, nil
}

// Dimensions rated in the feedback form, 1–5 each.
var Dimensions = []string{"taste", "texture", "price", "repurchase"}

// DimensionLabels are the dimensions as people read them.
var DimensionLabels = map[string][2]string{
	"taste":      {"口味", "Taste"},
	"texture":    {"口感", "Texture"},
	"price":      {"价格接受度", "Price willingness"},
	"repurchase": {"会购买吗", "Would buy"},
}

// Feedback is a chosen tester's answer.
type Feedback struct {
	TrialID    int64          `json:"trial_id"`
	CustomerID int64          `json:"-"`
	Name       string         `json:"name,omitempty"`
	Ratings    map[string]int `json:"ratings"`
	Text       string         `json:"text"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Validate checks every dimension is rated 1–5.
func (f *Feedback) Validate() error {
	f.Text = strings.TrimSpace(f.Text)
	if utf8.RuneCountInString(f.Text) > 1000 {
		return ErrRatings.At("text")
	}
	clean := map[string]int{}
	for _, d := range Dimensions {
		v := f.Ratings[d]
		if v < 1 || v > 5 {
			return ErrRatings.At("ratings." + d)
		}
		clean[d] = v
	}
	f.Ratings = clean
	return nil
}

// Results are a trial's figures for the merchant (and, without the texts
// and answers, for the public when PublicResult).
type Results struct {
	Trial        Trial                     `json:"trial"`
	Applicants   int64                     `json:"applicants"`
	Excluded     int64                     `json:"excluded"`
	Chosen       int64                     `json:"chosen"`
	Received     int64                     `json:"received"` // samples picked up or shipped
	Responses    int64                     `json:"responses"`
	ResponseRate float64                   `json:"response_rate"` // responses / received (0 when none received)
	Ratings      map[string]*Distribution  `json:"ratings"`
	Texts        []Feedback                `json:"texts,omitempty"`
	Choices      map[string]map[string]int `json:"choices,omitempty"` // application answers to choice questions: question → option → count
	Answers      []Application             `json:"answers,omitempty"` // applications with their answers (merchant only)
}

// Distribution is one dimension's counts of 1…5 and the mean.
type Distribution struct {
	Counts [5]int64 `json:"counts"`
	Mean   float64  `json:"mean"`
}

// Summarize fills the distributions and the response rate from feedback.
func (r *Results) Summarize(fb []Feedback) {
	r.Ratings = map[string]*Distribution{}
	for _, d := range Dimensions {
		r.Ratings[d] = &Distribution{}
	}
	for _, f := range fb {
		for _, d := range Dimensions {
			if v := f.Ratings[d]; v >= 1 && v <= 5 {
				r.Ratings[d].Counts[v-1]++
			}
		}
	}
	for _, dist := range r.Ratings {
		var n, sum int64
		for i, c := range dist.Counts {
			n += c
			sum += c * int64(i+1)
		}
		if n > 0 {
			dist.Mean = float64(sum*100/n) / 100
		}
	}
	r.Responses = int64(len(fb))
	if r.Received > 0 {
		r.ResponseRate = float64(r.Responses*1000/r.Received) / 1000
	}
}

// Public strips what only the merchant sees.
func (r *Results) Public() *Results {
	out := *r
	out.Texts, out.Answers, out.Choices = nil, nil, nil
	return &out
}

// Store keeps trials, applications and feedback; every method scopes by
// merchant and each write is one transaction.
type Store interface {
	// Create stores a trial. Errors: unknown_sku, unknown_store, not_found (group).
	Create(ctx context.Context, t *Trial) error
	Get(ctx context.Context, merchantID, id int64) (*Trial, error)
	// ByID loads a trial by id alone (its public page).
	ByID(ctx context.Context, id int64) (*Trial, error)
	// List lists the merchant's trials, newest first; groupID/roomID > 0
	// narrow it to those shown in a group or room.
	List(ctx context.Context, merchantID int64, f Filter) ([]Trial, error)
	// Apply records one application: ErrApplied the second time,
	// ErrClosed outside the window (checked on the locked row).
	Apply(ctx context.Context, merchantID int64, a *Application) error
	// Application is the customer's application (not_found when none).
	Application(ctx context.Context, merchantID, trialID, customerID int64) (*Application, error)
	// Applications lists a trial's applications, oldest first, with the
	// accounts' creation time and group membership (trial's GroupID).
	Applications(ctx context.Context, trialID int64) ([]Application, error)
	// Due lists open trials whose window closed.
	Due(ctx context.Context, now time.Time) ([]Trial, error)
	// SaveSelection marks the trial selected once (false when it already
	// was) with the exclusions, tiers and the chosen, and writes every
	// applicant's inbox note (chosen, or not this time) with its Web Push,
	// in the same transaction.
	SaveSelection(ctx context.Context, trialID int64, c *Choice) (bool, error)
	// PendingSamples lists chosen applications without a sample order.
	PendingSamples(ctx context.Context) ([]Pending, error)
	SetSampleOrder(ctx context.Context, trialID, customerID, orderID int64) error
	// SaveFeedback stores a chosen tester's feedback once, after the
	// sample order was completed or shipped. Errors: trial_not_chosen,
	// trial_sample_not_received, trial_feedback_given.
	SaveFeedback(ctx context.Context, merchantID int64, f *Feedback) error
	Feedback(ctx context.Context, trialID int64) ([]Feedback, error)
	// Results counts a trial's applications, samples received and feedback.
	Results(ctx context.Context, merchantID, trialID int64) (*Results, error)
	// RemindFeedback writes the feedback reminders due at now (inbox and
	// Web Push, once per tester and reminder whoever runs it) and returns
	// how many it wrote.
	RemindFeedback(ctx context.Context, now time.Time) (int64, error)
}

// Filter narrows List.
type Filter struct {
	GroupID int64
	RoomID  int64
	Status  Status
}

// Pending is a chosen applicant still owed a sample order.
type Pending struct {
	Trial       Trial
	Application Application
}
