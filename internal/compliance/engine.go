package compliance

// The rules as data (rules/rules.json) and the Ruleset compiled from them:
// terms and patterns indexed by their first runes, merchants' own terms added
// with With. check.go runs it over a text.

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed rules/rules.json rules/rules_en.json
var rulesFS embed.FS

// ruleFiles are the base rules: the Chinese rules, then the English ones
// (product names and descriptions are bilingual). Base joins them.
var ruleFiles = []struct{ name, tag string }{{"rules/rules.json", ""}, {"rules/rules_en.json", "en."}}

// Rule is one rule of the data file: where it comes from, what it says, and
// the terms that trigger it.
type Rule struct {
	ID            string                   `json:"id"`
	Law           string                   `json:"law"`
	LawEN         string                   `json:"law_en"`
	Severity      Severity                 `json:"severity"`
	ByProductType map[ProductType]Severity `json:"by_product_type,omitempty"`
	ProductTypes  []ProductType            `json:"product_types,omitempty"` // empty: all
	Contexts      []Context                `json:"contexts,omitempty"`      // empty: all
	Evidence      string                   `json:"evidence,omitempty"`
	Explanation   string                   `json:"explanation"`
	ExplanationEN string                   `json:"explanation_en"`
	Suggestion    string                   `json:"suggestion,omitempty"`
	SuggestionEN  string                   `json:"suggestion_en,omitempty"`
	Terms         []string                 `json:"terms,omitempty"`
	// Patterns are RE2 expressions over the folded text for claims that
	// come in many wordings: a condition near an effect (血压…稳),
	// a comparison with everyone (找不到比…更便宜). Terms stay the
	// first tool; a pattern is for what no list of terms can hold.
	Patterns []string          `json:"patterns,omitempty"`
	Rewrite  map[string]string `json:"rewrite,omitempty"`
	// Required phrases must appear (one of them) when the rule applies, e.g.
	// a health-food ad's 本品不能代替药物; missing, the finding is an empty
	// span at the text's end.
	Required []string `json:"required,omitempty"`
	// RequiredLang says which texts must carry the required phrase: "zh"
	// those with a Chinese (Han) character, "en" those without one, "" all.
	// A Chinese or bilingual ad needs the Chinese statement; an English-only
	// one (a product's name_en) the English, which its readers can read.
	RequiredLang string `json:"required_lang,omitempty"`
	Replacement  string `json:"replacement,omitempty"`
}

// severityFor is the rule's severity for a product type ("" = not applied).
func (r *Rule) severityFor(in Input) Severity {
	if len(r.ProductTypes) > 0 && !containsT(r.ProductTypes, in.ProductType) {
		return ""
	}
	if len(r.Contexts) > 0 && !containsT(r.Contexts, in.Context) {
		return ""
	}
	if s, ok := r.ByProductType[in.ProductType]; ok {
		return s
	}
	return r.Severity
}

func containsT[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// RuleFile is the versioned rules document.
type RuleFile struct {
	Version string `json:"version"`
	Note    string `json:"note,omitempty"`
	Rules   []Rule `json:"rules"`
}

// pattern is one compiled term.
type pattern struct {
	runes []rune
	rule  int    // index into Ruleset.rules
	term  string // as written in the rules (the key of Rule.Rewrite)
	// wordStart and wordEnd: the term begins (ends) with a Latin letter or
	// digit, so it matches only where the text's rune before (after) is
	// not one: "cure" is not found in "secure" or "cured", "no.1" not in "no.10".
	wordStart, wordEnd bool
}

// rulePattern is a rule's Patterns compiled into one expression. first
// holds the runes a match can start with, so the scan tries the anchored
// expression only there instead of running it over the whole text.
type rulePattern struct {
	anchored *regexp.Regexp
	first    map[rune]bool
	rule     int
}

// Ruleset is a compiled, immutable set of rules: the base rules, plus a
// merchant's terms and evidence when built with With.
type Ruleset struct {
	version  string
	rules    []Rule
	byFirst  map[rune][]int // first folded rune → pattern indexes, longest first
	patterns []pattern
	exprs    []rulePattern
	// exprByFirst: rune → the expressions a match can start with it, so a
	// text is walked once for all of them
	exprByFirst map[rune][]int
	required    [][][]rune // per rule index, folded required phrases, any one will do (nil when none)
	evidence    []Evidence
	now         time.Time
}

var (
	baseOnce sync.Once
	base     *Ruleset
	baseErr  error
)

// Base returns the embedded rules, compiled once. Its version names both
// files: "2026-12-07.4/en.2026-12-07.2".
func Base() *Ruleset {
	baseOnce.Do(func() {
		var all RuleFile
		for _, rf := range ruleFiles {
			raw, err := rulesFS.ReadFile(rf.name)
			if err != nil {
				baseErr = err
				return
			}
			var f RuleFile
			if err := json.Unmarshal(raw, &f); err != nil {
				baseErr = fmt.Errorf("compliance: %s: %w", rf.name, err)
				return
			}
			if all.Version != "" {
				all.Version += "/"
			}
			all.Version += rf.tag + f.Version
			all.Rules = append(all.Rules, f.Rules...)
		}
		base, baseErr = Compile(all)
	})
	if baseErr != nil {
		panic(baseErr) // the file is embedded: a broken one is a build error, caught by the tests
	}
	return base
}

// Compile checks and indexes a rules document.
func Compile(f RuleFile) (*Ruleset, error) {
	rs := &Ruleset{version: f.Version, byFirst: map[rune][]int{}}
	seen := map[string]bool{}
	for _, r := range f.Rules {
		if r.ID == "" || seen[r.ID] {
			return nil, fmt.Errorf("compliance: rule id %q empty or repeated", r.ID)
		}
		seen[r.ID] = true
		switch r.Severity {
		case Block, Warn, NeedsEvidence, Allow:
		default:
			return nil, fmt.Errorf("compliance: rule %s: severity %q", r.ID, r.Severity)
		}
		if r.Severity == NeedsEvidence && r.Evidence == "" {
			return nil, fmt.Errorf("compliance: rule %s needs evidence of no kind", r.ID)
		}
		switch r.RequiredLang {
		case "", "zh", "en":
		default:
			return nil, fmt.Errorf("compliance: rule %s: required_lang %q (zh, en or none)", r.ID, r.RequiredLang)
		}
		if len(r.Patterns) > 0 {
			// one expression per rule: one pass over the text, not one per pattern
			alts := make([]string, len(r.Patterns))
			for i, p := range r.Patterns {
				if _, err := regexp.Compile(p); err != nil {
					return nil, fmt.Errorf("compliance: rule %s: pattern %q: %w", r.ID, p, err)
				}
				alts[i] = "(?:" + p + ")"
			}
			expr := strings.Join(alts, "|")
			tree, err := syntax.Parse(expr, syntax.Perl)
			if err != nil {
				return nil, fmt.Errorf("compliance: rule %s: %w", r.ID, err)
			}
			first, nullable, ok := firstRunes(tree.Simplify())
			if !ok || nullable {
				return nil, fmt.Errorf("compliance: rule %s: each pattern must start with a literal or a small class", r.ID)
			}
			rs.exprs = append(rs.exprs, rulePattern{anchored: regexp.MustCompile(`^(?:` + expr + `)`), first: first, rule: len(rs.rules)})
		}
		rs.addRule(r)
	}
	rs.index()
	rs.exprByFirst = map[rune][]int{}
	for ei, e := range rs.exprs {
		for r := range e.first {
			rs.exprByFirst[r] = append(rs.exprByFirst[r], ei)
		}
	}
	return rs, nil
}

func (rs *Ruleset) addRule(r Rule) {
	idx := len(rs.rules)
	rs.rules = append(rs.rules, r)
	var req [][]rune
	for _, p := range r.Required {
		if rn := fold(p); len(rn) > 0 {
			req = append(req, rn)
		}
	}
	rs.required = append(rs.required, req)
	for _, t := range r.Terms {
		if rn := fold(t); len(rn) > 0 {
			rs.patterns = append(rs.patterns, pattern{runes: rn, rule: idx, term: t,
				wordStart: wordRune(rn[0]), wordEnd: wordRune(rn[len(rn)-1])})
		}
	}
}

// index builds the first-rune table; longer patterns first so the scan can
// stop at the first (longest) hit per rule.
func (rs *Ruleset) index() {
	rs.byFirst = map[rune][]int{}
	for i, p := range rs.patterns {
		rs.byFirst[p.runes[0]] = append(rs.byFirst[p.runes[0]], i)
	}
	for _, list := range rs.byFirst {
		sort.SliceStable(list, func(a, b int) bool { return len(rs.patterns[list[a]].runes) > len(rs.patterns[list[b]].runes) })
	}
}

// Version names the rules in force: the base file's version, plus the
// merchant layer's when there is one.
func (rs *Ruleset) Version() string { return rs.version }

// Rules lists the rules (base first, then the merchant's).
func (rs *Ruleset) Rules() []Rule { return rs.rules }

// With returns the base rules plus a merchant's terms (one rule per
// severity) and evidence (trademarks become allowed phrases). The base set
// is not changed.
func (rs *Ruleset) With(layer string, terms []Term, evidence []Evidence, now time.Time) *Ruleset {
	out := &Ruleset{version: rs.version, now: now}
	out.rules = append(out.rules, rs.rules...)
	out.required = append(out.required, rs.required...)
	out.patterns = append(out.patterns, rs.patterns...)
	out.exprs, out.exprByFirst = rs.exprs, rs.exprByFirst // merchant terms are literal
	if layer != "" {
		out.version += "+" + layer
	}
	bySev := map[Severity][]Term{}
	for _, t := range terms {
		bySev[t.Severity] = append(bySev[t.Severity], t)
	}
	for _, sev := range []Severity{Block, Warn, NeedsEvidence, Allow} {
		for _, t := range bySev[sev] {
			expl := t.Explanation
			if expl == "" {
				expl = "本店自定义的限制用语"
			}
			sugg := t.Suggestion
			if sugg == "" && sev != Allow {
				sugg = "删除或改写这个词"
			}
			r := Rule{ID: fmt.Sprintf("merchant-term-%d", t.ID), Law: "商家自定义规则", LawEN: "merchant's own rule", Severity: sev,
				Explanation: expl, ExplanationEN: "A term this merchant restricts.", Suggestion: sugg, Terms: []string{t.Term}}
			if sev == NeedsEvidence {
				r.Evidence = EvCertificate
			}
			out.addRule(r)
		}
	}
	var marks []string
	for _, e := range evidence {
		if !e.valid(now) {
			continue
		}
		out.evidence = append(out.evidence, e)
		if e.Kind == EvTrademark && e.Term != "" {
			marks = append(marks, e.Term)
		}
	}
	if len(marks) > 0 {
		out.addRule(Rule{ID: "trademark-registered", Law: "商标法", LawEN: "Trademark Law", Severity: Allow,
			Explanation: "注册商标（证明在档）", ExplanationEN: "Registered trademark on file.", Terms: marks})
	}
	out.index()
	return out
}

// firstRunes lists the runes a match of re can start with; nullable says
// re can match the empty string; ok is false when the set would be too
// large to help (a negated or wide class, any character).
func firstRunes(re *syntax.Regexp) (set map[rune]bool, nullable, ok bool) {
	set = map[rune]bool{}
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true, true
		}
		set[re.Rune[0]] = true
		return set, false, true
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > 64 {
				return nil, false, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set[r] = true
			}
		}
		return set, false, true
	case syntax.OpCapture, syntax.OpPlus:
		return firstRunes(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar:
		s, _, ok := firstRunes(re.Sub[0])
		return s, true, ok
	case syntax.OpRepeat:
		s, null, ok := firstRunes(re.Sub[0])
		return s, null || re.Min == 0, ok
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpBeginLine:
		return set, true, true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			s, null, ok := firstRunes(sub)
			if !ok {
				return nil, false, false
			}
			for r := range s {
				set[r] = true
			}
			nullable = nullable || null
		}
		return set, nullable, true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			s, null, ok := firstRunes(sub)
			if !ok {
				return nil, false, false
			}
			for r := range s {
				set[r] = true
			}
			if !null {
				return set, false, true
			}
		}
		return set, true, true
	}
	return nil, false, false
}
