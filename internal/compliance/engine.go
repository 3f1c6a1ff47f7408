package compliance

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
	"unicode/utf8"
)

//go:embed rules/rules.json
var rulesFS embed.FS

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
	// a health-food ad's 本品不能代替药物; missing, the finding spans [0,0].
	Required    []string `json:"required,omitempty"`
	Replacement string   `json:"replacement,omitempty"`
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
	required [][]rune // per rule index, folded required phrases (nil when none)
	evidence []Evidence
	now      time.Time
}

var (
	baseOnce sync.Once
	base     *Ruleset
	baseErr  error
)

// Base returns the embedded rules, compiled once.
func Base() *Ruleset {
	baseOnce.Do(func() {
		raw, err := rulesFS.ReadFile("rules/rules.json")
		if err != nil {
			baseErr = err
			return
		}
		var f RuleFile
		if err := json.Unmarshal(raw, &f); err != nil {
			baseErr = fmt.Errorf("compliance: rules.json: %w", err)
			return
		}
		base, baseErr = Compile(f)
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
	return rs, nil
}

func (rs *Ruleset) addRule(r Rule) {
	idx := len(rs.rules)
	rs.rules = append(rs.rules, r)
	var req [][]rune
	for _, p := range r.Required {
		req = append(req, fold(p))
	}
	rs.required = append(rs.required, nil)
	if len(req) > 0 {
		rs.required[idx] = req[0] // one phrase is enough for the rules we have
	}
	for _, t := range r.Terms {
		if rn := fold(t); len(rn) > 0 {
			rs.patterns = append(rs.patterns, pattern{runes: rn, rule: idx, term: t})
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
	out.exprs = rs.exprs // merchant terms are literal
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

// fold maps a text to the runes rules compare: ASCII letters lower-cased,
// full-width ASCII (ＡＢＣ１２３％) to half-width, the ideographic space to a
// space, traditional characters to simplified (tradToSimp). One rune in,
// one rune out; Check also drops what breaks words up (normalize).
func fold(s string) []rune {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, foldRune(r))
	}
	return out
}

func foldRune(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	case r == 0x3000:
		return ' '
	case r >= 0x4E00:
		if s, ok := tradToSimp[r]; ok {
			return s
		}
	}
	return r
}

// match is one term occurrence before overlaps are resolved.
type match struct {
	start, end int
	pat        int
	sev        Severity
}

// Check reviews one text.
func (rs *Ruleset) Check(text string, in Input) Result {
	if in.Context == "" || in.ProductType == "" {
		_ = in.Validate() // defaults; unknown values were refused at the edge
	}
	var buf [256]rune
	rn, pos := normalize(text, buf[:0])
	var mbuf [16]match
	ms := rs.scan(rn, in, mbuf[:0])
	res := Result{Verdict: OK}
	var orig []rune // the text's runes, for the matched words as written
	if len(ms) > 0 {
		ms = resolve(ms)
		for _, m := range ms {
			if m.sev == Allow {
				continue
			}
			r, term := rs.ruleOf(m)
			if m.sev == NeedsEvidence && rs.proven(r.Evidence, rn, m, in.ProductID) {
				continue
			}
			if orig == nil {
				orig = []rune(text)
			}
			at := m
			if pos != nil { // spans are in the text as written, spacers included
				at.start, at.end = pos[m.start], pos[m.end-1]+1
			}
			res.Findings = append(res.Findings, rs.finding(r, term, at, string(orig[at.start:at.end])))
		}
	}
	end := len(rn)
	if pos != nil {
		end = pos[len(rn)]
	}
	res.Findings = rs.checkRequired(rn, end, in, res.Findings)
	res.Verdict = verdictOf(res.Findings)
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	return res
}

// ruleOf is the rule behind a match and the term it matched ("" for a
// pattern: patterns have no rewrite of their own).
func (rs *Ruleset) ruleOf(m match) (*Rule, string) {
	if m.pat < 0 {
		return &rs.rules[rs.exprs[-1-m.pat].rule], ""
	}
	p := rs.patterns[m.pat]
	return &rs.rules[p.rule], p.term
}

// scan finds every applicable term and pattern occurrence.
func (rs *Ruleset) scan(rn []rune, in Input, ms []match) []match {
	for i, r := range rn {
		cands, ok := rs.byFirst[r]
		if !ok {
			continue
		}
		for _, pi := range cands {
			p := &rs.patterns[pi]
			if len(p.runes) > len(rn)-i || !hasPrefix(rn[i:], p.runes) {
				continue
			}
			sev := rs.rules[p.rule].severityFor(in)
			if sev == "" {
				continue
			}
			ms = append(ms, match{start: i, end: i + len(p.runes), pat: pi, sev: sev})
		}
	}
	if len(rs.exprs) == 0 {
		return ms
	}
	var folded string // built on the first candidate only
	var offsets []int // rune index → byte offset in folded
	for ei := range rs.exprs {
		e := &rs.exprs[ei]
		sev := rs.rules[e.rule].severityFor(in)
		if sev == "" {
			continue
		}
		for i := 0; i < len(rn); i++ {
			if !e.first[rn[i]] {
				continue
			}
			if offsets == nil {
				folded = string(rn)
				offsets = make([]int, 0, len(rn)+1)
				for b := range folded {
					offsets = append(offsets, b)
				}
				offsets = append(offsets, len(folded))
			}
			loc := e.anchored.FindStringIndex(folded[offsets[i]:])
			if loc == nil {
				continue
			}
			end := i + utf8.RuneCountInString(folded[offsets[i]:offsets[i]+loc[1]])
			ms = append(ms, match{start: i, end: end, pat: -1 - ei, sev: sev})
			i = end - 1 // matches of one rule do not overlap
		}
	}
	return ms
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

func hasPrefix(s, p []rune) bool {
	for i, r := range p {
		if s[i] != r {
			return false
		}
	}
	return true
}

// resolve keeps, among overlapping matches, the longest (then the earliest,
// then the earlier rule), so specific phrases beat the general terms inside
// them. Terms come before patterns: a pattern only fills what no term
// (allowed phrases included) covers, so terms keep their rewrites and
// exemptions.
func resolve(ms []match) []match {
	if len(ms) == 1 {
		return ms
	}
	sort.SliceStable(ms, func(a, b int) bool {
		if pa, pb := ms[a].pat < 0, ms[b].pat < 0; pa != pb {
			return pb
		}
		la, lb := ms[a].end-ms[a].start, ms[b].end-ms[b].start
		if la != lb {
			return la > lb
		}
		if ms[a].start != ms[b].start {
			return ms[a].start < ms[b].start
		}
		return ms[a].pat < ms[b].pat
	})
	kept := ms[:0:0]
	for _, m := range ms {
		overlaps := false
		for _, k := range kept {
			if m.start < k.end && k.start < m.end {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, m)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].start < kept[b].start })
	return kept
}

// proven reports whether evidence on file backs a needs_evidence match:
// same kind, for this product or any, and naming a term that overlaps the
// claim in the text itself (or no term: every claim of its kind). Evidence
// for "2025年天猫销量第一" does not back a bare 销量第一.
func (rs *Ruleset) proven(kind string, rn []rune, m match, productID int64) bool {
	for i := range rs.evidence {
		e := &rs.evidence[i]
		if e.Kind != kind || (e.ProductID != 0 && e.ProductID != productID) {
			continue
		}
		if e.Term == "" {
			return true
		}
		claim := string(rn[m.start:m.end])
		term := string(fold(e.Term))
		if strings.Contains(claim, term) || containsAround(rn, m, term) {
			return true
		}
	}
	return false
}

// containsAround looks for the evidence term in a window around the claim,
// so evidence "2025年天猫坚果类目销量第一" backs the 销量第一 inside that sentence.
func containsAround(rn []rune, m match, term string) bool {
	n := len([]rune(term))
	lo, hi := max(0, m.start-n), min(len(rn), m.end+n)
	return strings.Contains(string(rn[lo:hi]), term)
}

func (rs *Ruleset) finding(r *Rule, term string, m match, matched string) Finding {
	f := Finding{Rule: r.ID, Law: r.Law, Span: Span{m.start, m.end}, Match: matched, Severity: m.sev,
		Explanation: r.Explanation, ExplanationEN: r.ExplanationEN, Suggestion: r.Suggestion, SuggestionEN: r.SuggestionEN}
	if m.sev == NeedsEvidence {
		f.Evidence = r.Evidence
	}
	if rep, ok := r.Rewrite[term]; ok {
		rep := rep
		f.Replacement = &rep
		if rep == "" {
			f.Suggestion = "删除「" + matched + "」"
		} else {
			f.Suggestion = "把「" + matched + "」改为「" + rep + "」"
		}
	}
	return f
}

// checkRequired adds a finding for each applicable rule whose required
// phrase is missing (e.g. a health-food ad without 本品不能代替药物).
func (rs *Ruleset) checkRequired(rn []rune, end int, in Input, fs []Finding) []Finding {
	for i, req := range rs.required {
		if req == nil {
			continue
		}
		r := &rs.rules[i]
		sev := r.severityFor(in)
		if sev == "" || sev == Allow || containsRunes(rn, req) {
			continue
		}
		rep := r.Replacement
		fs = append(fs, Finding{Rule: r.ID, Law: r.Law, Span: Span{end, end}, Severity: sev,
			Explanation: r.Explanation, ExplanationEN: r.ExplanationEN, Suggestion: r.Suggestion, SuggestionEN: r.SuggestionEN, Replacement: &rep})
	}
	return fs
}

func containsRunes(s, sub []rune) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefix(s[i:], sub) {
			return true
		}
	}
	return false
}

func verdictOf(fs []Finding) Verdict {
	v := OK
	for _, f := range fs {
		switch f.Severity {
		case Block, Warn:
			return Violation
		case NeedsEvidence:
			v = NeedsProof
		}
	}
	return v
}
