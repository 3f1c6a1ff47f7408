package compliance

// Checking a text against a compiled Ruleset: scan the normalized runes
// for terms, resolve overlaps, drop what evidence proves, add what a
// required statement lacks, and give the verdict.

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
			if len(p.runes) > len(rn)-i || !hasPrefix(rn[i:], p.runes) ||
				(p.wordStart && i > 0 && wordRune(rn[i-1])) || (p.wordEnd && i+len(p.runes) < len(rn) && wordRune(rn[i+len(p.runes)])) {
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
	return rs.scanExprs(rn, in, ms)
}

// scanExprs tries each rule's expression at the runes a match of it can
// start with (exprByFirst), left to right; matches of one rule do not overlap.
func (rs *Ruleset) scanExprs(rn []rune, in Input, ms []match) []match {
	var nextBuf [64]int // per expression: where its next match may start
	next := nextBuf[:0]
	if len(rs.exprs) <= len(nextBuf) {
		next = nextBuf[:len(rs.exprs)]
	} else {
		next = make([]int, len(rs.exprs))
	}
	var folded string // built on the first candidate only
	var offsets []int // rune index → byte offset in folded
	for i, r := range rn {
		cands := rs.exprByFirst[r]
		if len(cands) == 0 || (i > 0 && wordRune(r) && wordRune(rn[i-1])) {
			continue // no expression starts here, or this is inside a Latin word
		}
		for _, ei := range cands {
			e := &rs.exprs[ei]
			if i < next[ei] {
				continue
			}
			sev := rs.rules[e.rule].severityFor(in)
			if sev == "" {
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
			if end < len(rn) && wordRune(rn[end-1]) && wordRune(rn[end]) {
				continue // nor may it end inside one (write \d+ or \w* to take the rest)
			}
			ms = append(ms, match{start: i, end: end, pat: -1 - ei, sev: sev})
			next[ei] = end
		}
	}
	return ms
}

// wordRune reports the runes English words are made of, for the word
// boundaries of terms and patterns. Han characters are not: Chinese has no
// spaces, so a Chinese term matches anywhere.
func wordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
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
	f := Finding{Rule: r.ID, Law: r.Law, LawEN: r.LawEN, Span: Span{m.start, m.end}, Match: matched, Severity: m.sev,
		Explanation: r.Explanation, ExplanationEN: r.ExplanationEN, Suggestion: r.Suggestion, SuggestionEN: r.SuggestionEN}
	if m.sev == NeedsEvidence {
		f.Evidence = r.Evidence
	}
	if rep, ok := r.Rewrite[term]; ok {
		rep := rep
		f.Replacement = &rep
		if rep == "" {
			f.Suggestion = "删除「" + matched + "」"
			f.SuggestionEN = "Delete “" + matched + "”."
		} else {
			f.Suggestion = "把「" + matched + "」改为「" + rep + "」"
			f.SuggestionEN = "Write “" + rep + "” instead of “" + matched + "”."
		}
	}
	return f
}

// checkRequired adds a finding for each applicable rule whose required
// phrase is missing (e.g. a health-food ad without 本品不能代替药物, an
// English-only one without "cannot replace medicine").
func (rs *Ruleset) checkRequired(rn []rune, end int, in Input, fs []Finding) []Finding {
	han := -1 // whether rn has a Han character, found on the first rule that asks
	for i, req := range rs.required {
		if req == nil {
			continue
		}
		r := &rs.rules[i]
		sev := r.severityFor(in)
		if sev == "" || sev == Allow {
			continue
		}
		if r.RequiredLang != "" {
			if han < 0 {
				han = 0
				if hasHan(rn) {
					han = 1
				}
			}
			if (r.RequiredLang == "zh") != (han == 1) {
				continue
			}
		}
		if containsAny(rn, req) {
			continue
		}
		rep := r.Replacement
		fs = append(fs, Finding{Rule: r.ID, Law: r.Law, LawEN: r.LawEN, Span: Span{end, end}, Severity: sev,
			Explanation: r.Explanation, ExplanationEN: r.ExplanationEN, Suggestion: r.Suggestion, SuggestionEN: r.SuggestionEN, Replacement: &rep})
	}
	return fs
}

func hasHan(rn []rune) bool {
	for _, r := range rn {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func containsAny(s []rune, subs [][]rune) bool {
	for _, sub := range subs {
		if containsRunes(s, sub) {
			return true
		}
	}
	return false
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
