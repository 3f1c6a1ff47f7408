package epcis

// Values as the event hash sees them: canonical numbers, timestamps and
// CBV/vocabulary IRIs (see hash.go for the algorithm).

import (
	"encoding/json"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var cbvURNs = strings.NewReplacer(
	"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
	"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-",
	"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-",
	"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-",
	"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-",
)

var reNumeric = regexp.MustCompile(`^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$`)

// canonicalValue applies the value rules: CBV URNs to Web URIs, numbers
// without trailing zeros, GS1 identifiers to constrained Digital Links.
func canonicalValue(s string) string {
	s = cbvURNs.Replace(s)
	s = canonicalNumber(s)
	if dl, ok := NormalizeID(s); ok {
		return dl
	}
	return s
}

func canonicalNumber(s string) string {
	if s == "" || !strings.ContainsAny(s[:1], "0123456789+-. \t\n\r") || !reNumeric.MatchString(s) {
		return s
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(f, 0) {
		return s
	}
	if f == math.Trunc(f) {
		bi, _ := new(big.Float).SetFloat64(f).Int(nil)
		return bi.String()
	}
	return pyFloatRepr(f)
}

// normalizeTimestamp renders a timestamp in UTC with millisecond precision,
// rounding half to even on the fourth decimal as the reference does.
func normalizeTimestamp(s string) string {
	t, err := parseTimestamp(s)
	if err != nil {
		return s
	}
	t = t.UTC()
	us := t.Nanosecond() / 1000
	ms := us / 1000
	rem := us % 1000
	if rem > 500 || (rem == 500 && ms%2 == 1) {
		ms++
	}
	t = t.Truncate(time.Second).Add(time.Duration(ms) * time.Millisecond)
	return t.Format("2006-01-02T15:04:05.000") + "Z"
}

var reTimestamp = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$`)

// parseTimestamp reads ISO 8601 date-times with any number of fraction
// digits (truncated to microseconds, as the reference parser does) and an
// optional offset (none means UTC).
func parseTimestamp(s string) (time.Time, error) {
	m := reTimestamp.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return time.Time{}, &time.ParseError{Layout: "RFC3339", Value: s, Message: ": not an ISO 8601 date-time"}
	}
	clock := m[2]
	if len(clock) == 5 {
		clock += ":00"
	}
	frac := m[3]
	if len(frac) > 6 {
		frac = frac[:6]
	}
	for len(frac) < 6 {
		frac += "0"
	}
	zone := m[4]
	switch {
	case zone == "" || zone == "Z":
		zone = "Z"
	case len(zone) == 3:
		zone += ":00"
	case len(zone) == 5:
		zone = zone[:3] + ":" + zone[3:]
	}
	return time.Parse(time.RFC3339Nano, m[1]+"T"+clock+"."+frac+zone)
}

// vocabExpansions lists the CBV/GS1 vocabulary IRIs that JSON-LD expansion
// with the EPCIS context yields for an event's vocabulary-typed fields.
func vocabExpansions(ev *jvalue) []string {
	var out []string
	add := func(field string, v *jvalue) {
		if v == nil || v.kind != jString {
			return
		}
		if x, ok := expandVocab(field, v.s); ok {
			out = append(out, x)
		}
	}
	add("bizStep", ev.get("bizStep"))
	add("disposition", ev.get("disposition"))
	if pd := ev.get("persistentDisposition"); pd != nil {
		for _, k := range []string{"set", "unset"} {
			if l := pd.get(k); l != nil {
				for _, e := range l.arr {
					add("disposition", e)
				}
			}
		}
	}
	for _, l := range []struct{ list, field string }{{"bizTransactionList", "bizTransactionType"}, {"sourceList", "sourceDestType"}, {"destinationList", "sourceDestType"}} {
		if arr := ev.get(l.list); arr != nil {
			for _, e := range arr.arr {
				add(l.field, e.get("type"))
			}
		}
	}
	if sel := ev.get("sensorElementList"); sel != nil {
		for _, se := range sel.arr {
			if reps := se.get("sensorReport"); reps != nil {
				for _, r := range reps.arr {
					add("sensorType", r.get("type"))
					add("exception", r.get("exception"))
					add("component", r.get("component"))
				}
			}
		}
	}
	if ed := ev.get("errorDeclaration"); ed != nil {
		add("reason", ed.get("reason"))
	}
	var keep []string
	for _, x := range out {
		if strings.HasPrefix(x, "https://ref.gs1.org/cbv") || strings.HasPrefix(x, "https://gs1.org/voc") {
			keep = append(keep, x)
		}
	}
	return keep
}

// vocabTerms holds the bare terms of the EPCIS JSON-LD context per field.
var (
	vocabOnce  sync.Once
	vocabTerms map[string]map[string]string
)

func loadVocabTerms() {
	vocabTerms = map[string]map[string]string{}
	var ctx struct {
		Context map[string]json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(contextJSON, &ctx); err != nil {
		panic("epcis: embedded context: " + err.Error())
	}
	type termDef struct {
		Context json.RawMessage `json:"@context"`
	}
	terms := func(raw json.RawMessage) map[string]string {
		m := map[string]string{}
		var one map[string]json.RawMessage
		var many []map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil {
			if json.Unmarshal(raw, &many) != nil {
				return m
			}
		} else {
			many = append(many, one)
		}
		for _, d := range many {
			for k, v := range d {
				var s string
				if json.Unmarshal(v, &s) == nil && strings.Contains(s, ":") {
					m[k] = expandCURIE(s)
				}
			}
		}
		return m
	}
	scoped := func(raw json.RawMessage, path ...string) json.RawMessage {
		for _, p := range path {
			var d termDef
			if json.Unmarshal(raw, &d) != nil {
				return nil
			}
			var c map[string]json.RawMessage
			if json.Unmarshal(d.Context, &c) != nil {
				return nil
			}
			raw = c[p]
		}
		var d termDef
		if json.Unmarshal(raw, &d) != nil {
			return nil
		}
		return d.Context
	}
	vocabTerms["bizStep"] = terms(scoped(ctx.Context["bizStep"]))
	vocabTerms["disposition"] = terms(scoped(ctx.Context["disposition"]))
	for k, v := range terms(scoped(ctx.Context["persistentDisposition"])) {
		vocabTerms["disposition"][k] = v
	}
	vocabTerms["bizTransactionType"] = terms(scoped(ctx.Context["bizTransactionList"], "type"))
	vocabTerms["sourceDestType"] = terms(scoped(ctx.Context["sourceList"], "type"))
	vocabTerms["sensorType"] = terms(scoped(ctx.Context["sensorElementList"], "sensorReport", "type"))
	vocabTerms["exception"] = terms(scoped(ctx.Context["sensorElementList"], "sensorReport", "exception"))
	vocabTerms["component"] = terms(scoped(ctx.Context["sensorElementList"], "sensorReport", "component"))
	vocabTerms["reason"] = terms(scoped(ctx.Context["errorDeclaration"], "reason"))
}

func expandCURIE(s string) string {
	p, local, ok := strings.Cut(s, ":")
	if ok {
		if ns, ok := standardPrefixes[p]; ok {
			return ns + local
		}
	}
	return s
}

// expandVocab expands one vocabulary-typed value as JSON-LD would.
func expandVocab(field, v string) (string, bool) {
	vocabOnce.Do(loadVocabTerms)
	if x, ok := vocabTerms[field][v]; ok {
		return x, true
	}
	if strings.Contains(v, ":") {
		return expandCURIE(v), true
	}
	return "", false
}

// VocabIRI returns the full CBV/GS1 IRI of a bare vocabulary value of the
// given field (bizStep, disposition, bizTransactionType, sourceDestType,
// sensorType, exception, component, reason), CURIEs expanded and CBV URNs
// turned into Web URIs; other values are returned unchanged.
func VocabIRI(field, v string) string {
	if x, ok := expandVocab(field, v); ok {
		return cbvURNs.Replace(x)
	}
	return cbvURNs.Replace(v)
}
