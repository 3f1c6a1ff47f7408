// Package compliance reviews what a merchant says when selling food: room
// titles, product texts, host scripts and what hosts write during a live,
// against the advertising law (广告法 §9, §17, §18, §28), the food safety law
// (食品安全法 §71, §73), labelling rules (GB 7718, GB 28050), certification
// rules (organic, green food, geographical indications) and the price-fraud
// rules. Rules are data (rules/rules.json, and rules/rules_en.json for
// English wording; versioned in the repository); each
// merchant adds terms of its own and evidence (certificates, rankings,
// trademarks, price records) that turns a needs_evidence finding into ok.
//
// The checker is pure and in memory: a text is folded to runes once, terms
// are looked up by their first rune, overlapping matches are resolved
// longest-first (so an allowed phrase like 最佳食用期 exempts the 最佳 inside
// it), and only findings allocate. It runs on the comment hot path.
package compliance

import (
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
)

// Context says where a text appears; some rules apply only in some places.
type Context string

const (
	CtxTitle   Context = "title"   // a room title
	CtxProduct Context = "product" // a product's name, subtitle, description
	CtxScript  Context = "script"  // the host's script for a room
	CtxPinned  Context = "pinned"  // a text pinned in the room
	CtxComment Context = "comment" // a comment written during a live
)

// ProductType decides which food rules apply: ordinary food may claim no
// health function at all; health food only its registered one.
type ProductType string

const (
	OrdinaryFood ProductType = "ordinary_food"
	HealthFood   ProductType = "health_food"
	NotFood      ProductType = "none"
)

// Severity is how bad a finding is. Allow is internal: a rule of allowed
// phrases that exempts the terms it covers; it never appears in a finding.
type Severity string

const (
	Block         Severity = "block"          // must not be published; stops a room going live
	Warn          Severity = "warn"           // likely misleading; shown, does not stop
	NeedsEvidence Severity = "needs_evidence" // fine with proof on file (certificate, ranking, price record)
	Allow         Severity = "allow"
)

// Verdict sums up a text's findings.
type Verdict string

const (
	Violation  Verdict = "violation" // a block or warn finding
	NeedsProof Verdict = "needs_evidence"
	OK         Verdict = "ok"
)

// Span is a half-open range of rune (not byte) offsets into the checked
// text, as [start, end] in JSON, so a browser can underline it.
type Span [2]int

// Finding is one problem in a text.
type Finding struct {
	Rule          string   `json:"rule"`
	Law           string   `json:"law"`
	LawEN         string   `json:"law_en"` // the law's English name, for English pages
	Span          Span     `json:"span"`
	Match         string   `json:"match"`
	Severity      Severity `json:"severity"`
	Explanation   string   `json:"explanation"`
	ExplanationEN string   `json:"explanation_en"`
	Suggestion    string   `json:"suggestion"`
	SuggestionEN  string   `json:"suggestion_en,omitempty"`
	// Replacement is what to write instead of the span ("" means delete it);
	// nil when no safe wording can be proposed (the claim needs rethinking).
	Replacement *string `json:"replacement,omitempty"`
	Evidence    string  `json:"evidence,omitempty"` // the evidence kind that would satisfy it
}

// Result is the review of one text.
type Result struct {
	Verdict  Verdict   `json:"verdict"`
	Findings []Finding `json:"findings"`
}

// Blocking reports whether the text must not be published.
func (r Result) Blocking() bool {
	for _, f := range r.Findings {
		if f.Severity == Block {
			return true
		}
	}
	return false
}

// Input says how to read a text.
type Input struct {
	Context     Context
	ProductType ProductType
	ProductID   int64 // evidence bound to a product applies only to it
}

// Validate fills defaults and refuses unknown values.
func (in *Input) Validate() error {
	switch in.Context {
	case "":
		in.Context = CtxProduct
	case CtxTitle, CtxProduct, CtxScript, CtxPinned, CtxComment:
	default:
		return ErrContext
	}
	switch in.ProductType {
	case "":
		in.ProductType = OrdinaryFood
	case OrdinaryFood, HealthFood, NotFood:
	default:
		return ErrProductType
	}
	return nil
}

// Evidence kinds a merchant can keep on file.
const (
	EvTrademark   = "trademark"            // a registered trademark: its text is exempt
	EvRanking     = "ranking"              // a ranking, sales figure or award with its source
	EvCertificate = "certificate"          // a national title (非遗, 老字号 …)
	EvHealthFood  = "health_food_approval" // 保健食品 registration/filing (蓝帽子)
	EvNutrition   = "nutrition_test"       // a test report behind a nutrition claim
	EvOrganic     = "organic_cert"
	EvGreen       = "green_cert"
	EvOrigin      = "origin_cert" // certificate of origin, GI authorisation
	EvPrice       = "previous_price"
)

// EvidenceKinds lists the kinds in the order the admin offers them.
var EvidenceKinds = []string{EvTrademark, EvRanking, EvCertificate, EvHealthFood, EvNutrition, EvOrganic, EvGreen, EvOrigin, EvPrice}

// Term is a merchant's own rule: a word it wants blocked, warned about or
// backed by evidence, beyond the base rules.
type Term struct {
	ID          int64     `json:"id"`
	MerchantID  int64     `json:"-"`
	Term        string    `json:"term"`
	Severity    Severity  `json:"severity"`
	Explanation string    `json:"explanation,omitempty"`
	Suggestion  string    `json:"suggestion,omitempty"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Validate checks a term before it is stored.
func (t *Term) Validate() error {
	t.Term = strings.TrimSpace(t.Term)
	t.Explanation = strings.TrimSpace(t.Explanation)
	t.Suggestion = strings.TrimSpace(t.Suggestion)
	if n := len([]rune(t.Term)); n == 0 || n > 40 {
		return ErrTerm
	}
	switch t.Severity {
	case "":
		t.Severity = Block
	case Block, Warn, NeedsEvidence, Allow:
	default:
		return ErrSeverity
	}
	if len([]rune(t.Explanation)) > 200 || len([]rune(t.Suggestion)) > 200 {
		return ErrTermText
	}
	return nil
}

// Evidence is proof on file: a trademark registration, a certificate, a
// ranking's source, a price record. Term narrows it to claims containing
// that text ("" = every claim of its kind); ProductID to one product.
type Evidence struct {
	ID         int64      `json:"id"`
	MerchantID int64      `json:"-"`
	Kind       string     `json:"kind"`
	Term       string     `json:"term,omitempty"`
	ProductID  int64      `json:"product_id,omitempty"`
	Reference  string     `json:"reference"` // certificate or registration number, source of a ranking
	Note       string     `json:"note,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Validate checks evidence before it is stored.
func (e *Evidence) Validate() error {
	e.Term = strings.TrimSpace(e.Term)
	e.Reference = strings.TrimSpace(e.Reference)
	e.Note = strings.TrimSpace(e.Note)
	known := false
	for _, k := range EvidenceKinds {
		known = known || k == e.Kind
	}
	if !known {
		return ErrEvidenceKind
	}
	if e.Reference == "" || len([]rune(e.Reference)) > 200 || len([]rune(e.Note)) > 500 || len([]rune(e.Term)) > 40 {
		return ErrEvidenceRef
	}
	if e.Kind == EvTrademark && e.Term == "" {
		return ErrTrademarkTerm
	}
	return nil
}

// valid reports whether the evidence counts at now.
func (e *Evidence) valid(now time.Time) bool {
	return e.ValidUntil == nil || now.Before(*e.ValidUntil)
}

// Errors.
var (
	ErrContext       = apperr.InvalidField("context", "invalid_context", "context 须为 title/product/script/pinned/comment", "context must be title, product, script, pinned or comment.")
	ErrProductType   = apperr.ErrInvalidProductType
	ErrTexts         = apperr.ErrInvalidTexts.With("texts 须为1到100段文字，每段最多5000字", "texts: 1 to 100 texts of at most 5,000 characters each.")
	ErrTerm          = apperr.InvalidField("term", "invalid_term", "词语必填，最多40字", "term is required, at most 40 characters.")
	ErrTermText      = apperr.InvalidField("explanation", "invalid_term_text", "说明和建议最多200字", "explanation and suggestion: at most 200 characters.")
	ErrSeverity      = apperr.InvalidField("severity", "invalid_severity", "severity 须为 block/warn/needs_evidence/allow", "severity must be block, warn, needs_evidence or allow.")
	ErrEvidenceKind  = apperr.InvalidField("kind", "invalid_evidence_kind", "证明类型无效", "Unknown evidence kind.")
	ErrEvidenceRef   = apperr.InvalidField("reference", "invalid_evidence", "请填写证书编号或出处（最多200字）", "reference (certificate number or source) is required, at most 200 characters.")
	ErrTrademarkTerm = apperr.InvalidField("term", "trademark_term_required", "商标证明须填写商标文字", "A trademark needs its text in term.")
	// ErrBlocked refuses what viewers would read with a blocking finding (a
	// room going live, a live edit, a price, a coupon's title); the answer
	// carries the review. An owner may override explicitly where allowed.
	ErrBlocked = apperr.New(apperr.Conflict, "compliance_blocked", "含有违规用语或不实的价格对比，未执行：请按审查结果修改", "Blocked by the compliance review (claims or a price comparison the rules forbid); nothing was changed. Fix what the review lists.")
	// ErrOverrideForbidden: only an owner may override a blocking review.
	ErrOverrideForbidden = apperr.New(apperr.Forbidden, "compliance_override_forbidden", "只有店主可以越过合规审查强制执行", "Only an owner can override the compliance review.")
	// ErrOverrideReason: an override must say why; the reason is audited.
	ErrOverrideReason = apperr.InvalidField("override.reason", "override_reason_required", "强制执行须填写理由（最多200字）", "An override needs a reason (at most 200 characters).")
	// ErrHostCommentBlocked refuses a host's or guide's comment that breaks a blocking rule.
	ErrHostCommentBlocked = apperr.InvalidField("text", "comment_noncompliant", "这句话含有违规用语，请修改后再发", "This comment breaks advertising rules; rephrase it.")
)

// Store errors.
var (
	ErrTermExists      = apperr.New(apperr.Conflict, "term_exists", "这个词已经在列表中", "The term is already on the list.")
	ErrEvidenceProduct = catalog.ErrUnknownProduct
	ErrScript          = apperr.InvalidField("script", "invalid_script", "脚本最多20000字", "A script is at most 20,000 characters.")
)
