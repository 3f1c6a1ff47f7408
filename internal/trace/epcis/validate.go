package epcis

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var englishPrinter = message.NewPrinter(language.English)

// schemaURL is the $id of the embedded GS1 EPCIS 2.0 JSON Schema.
const schemaURL = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"

// ecmaRegexp adapts regexp2 in ECMAScript mode: the GS1 schema's patterns
// use negative look-ahead, which Go's RE2 cannot compile.
type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }

func compileECMA(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	// A bounded match time keeps a hostile value from pinning a CPU.
	re.MatchTimeout = 250 * time.Millisecond
	return ecmaRegexp{re}, nil
}

var (
	schemaOnce  sync.Once
	schema      *jsonschema.Schema
	eventSchema *jsonschema.Schema // #/definitions/EPCIS-Document-Event: one item of eventList
	schemaErr   error
)

// compiledSchema compiles the embedded schema once per process.
func compiledSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			schemaErr = fmt.Errorf("schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.UseRegexpEngine(compileECMA)
		c.AssertFormat()
		if err := c.AddResource(schemaURL, doc); err != nil {
			schemaErr = fmt.Errorf("schema: %w", err)
			return
		}
		schema, schemaErr = c.Compile(schemaURL)
		if schemaErr == nil {
			eventSchema, schemaErr = c.Compile(schemaURL + "#/definitions/EPCIS-Document-Event")
		}
	})
	return schema, schemaErr
}

// validateEvent checks one eventList item; problems carry event-relative
// pointers (the caller prefixes them).
func validateEvent(ev any) ([]Problem, error) {
	if _, err := compiledSchema(); err != nil {
		return nil, err
	}
	err := eventSchema.Validate(ev)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return problemsFrom(ve, ev), nil
}

// Problem is one reason a document was rejected: which event (index in
// eventList, -1 for the document itself), its eventID if it has one, the
// JSON pointer of the offending field and a readable message.
type Problem struct {
	Event   int    `json:"event"`
	EventID string `json:"eventID,omitempty"`
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// InvalidDocumentError rejects a whole document; nothing of it may be stored.
type InvalidDocumentError struct {
	Problems []Problem
}

func (e *InvalidDocumentError) Error() string {
	if len(e.Problems) == 0 {
		return "epcis: invalid document"
	}
	p := e.Problems[0]
	more := ""
	if len(e.Problems) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(e.Problems)-1)
	}
	return fmt.Sprintf("epcis: invalid document: %s: %s%s", p.Pointer, p.Message, more)
}

// maxProblemsPerEvent keeps error responses readable for badly broken input.
const maxProblemsPerEvent = 5

// ValidateJSON checks a parsed JSON value (as produced by encoding/json with
// UseNumber, or jsonschema.UnmarshalJSON) against the GS1 schema. It returns
// nil or an *InvalidDocumentError whose problems name events and fields.
func ValidateJSON(v any) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	err = sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate: %w", err)
	}
	return &InvalidDocumentError{Problems: problemsFrom(ve, v)}
}

// Validate parses and validates a JSON document against the GS1 schema.
func Validate(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return &InvalidDocumentError{Problems: []Problem{{Event: -1, Pointer: "", Message: "not valid JSON: " + err.Error()}}}
	}
	return ValidateJSON(v)
}

type leaf struct {
	loc []string
	msg string
}

// problemsFrom flattens the error tree to its leaves (the keyword that
// actually failed), keeps per event the most specific ones (deepest
// instance location) and turns them into Problems.
func problemsFrom(ve *jsonschema.ValidationError, doc any) []Problem {
	var leaves []leaf
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, leaf{loc: append([]string(nil), e.InstanceLocation...), msg: leafMessage(e)})
			return
		}
		switch k := e.ErrorKind.(type) {
		case *kind.PropertyNames:
			// The name itself is the problem; the causes only say which
			// alternative patterns it missed.
			// The library reports the object's location with a slice it
			// reuses afterwards, so find the object again in the document.
			loc := locateProperty(doc, e.InstanceLocation, k.Property)
			leaves = append(leaves, leaf{loc: append(loc, k.Property),
				msg: fmt.Sprintf("property %q is not allowed here (extensions must use a namespace prefix, e.g. \"example:%s\")", k.Property, k.Property)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)

	type bucket struct {
		event  int
		leaves []leaf
	}
	buckets := map[int]*bucket{}
	var order []int
	for _, l := range leaves {
		ev := eventIndex(l.loc)
		b := buckets[ev]
		if b == nil {
			b = &bucket{event: ev}
			buckets[ev] = b
			order = append(order, ev)
		}
		b.leaves = append(b.leaves, l)
	}
	sort.Ints(order)
	var out []Problem
	for _, ev := range order {
		b := buckets[ev]
		depth := 0
		for _, l := range b.leaves {
			if len(l.loc) > depth {
				depth = len(l.loc)
			}
		}
		seen := map[string]bool{}
		n := 0
		for _, l := range b.leaves {
			if len(l.loc) != depth {
				continue
			}
			p := Problem{Event: ev, Pointer: pointer(l.loc), Message: l.msg}
			key := p.Pointer + "\x00" + p.Message
			if seen[key] {
				continue
			}
			seen[key] = true
			if ev >= 0 {
				p.EventID = eventIDAt(doc, ev)
			}
			out = append(out, p)
			n++
			if n == maxProblemsPerEvent {
				break
			}
		}
	}
	return out
}

// leafMessage is the library's English message for one failed keyword.
func leafMessage(e *jsonschema.ValidationError) string {
	s := e.ErrorKind.LocalizedString(englishPrinter)
	if s == "" {
		s = fmt.Sprintf("%v", e.ErrorKind)
	}
	return s
}

// eventIndex finds i in /epcisBody/eventList/i/… (or the query document's
// resultsBody path); -1 means the problem is outside any event.
func eventIndex(loc []string) int {
	for i := 0; i+1 < len(loc); i++ {
		if loc[i] == "eventList" {
			if n, err := strconv.Atoi(loc[i+1]); err == nil {
				return n
			}
		}
	}
	if len(loc) >= 2 && loc[0] == "epcisBody" && loc[1] == "event" {
		return 0
	}
	return -1
}

func eventIDAt(doc any, i int) string {
	m, _ := doc.(map[string]any)
	body, _ := m["epcisBody"].(map[string]any)
	list, _ := body["eventList"].([]any)
	if i < len(list) {
		ev, _ := list[i].(map[string]any)
		s, _ := ev["eventID"].(string)
		return s
	}
	return ""
}

// pointer renders an RFC 6901 JSON pointer.
func pointer(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// locateProperty finds the path of an object that has the property name,
// preferring paths of the reported length that agree with the report most.
func locateProperty(doc any, reported []string, name string) []string {
	var best []string
	bestScore := -1
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		switch t := v.(type) {
		case map[string]any:
			if _, ok := t[name]; ok && len(path) == len(reported) {
				score := 0
				for i := range path {
					if path[i] == reported[i] {
						score++
					}
				}
				if score > bestScore {
					bestScore = score
					best = append([]string(nil), path...)
				}
			}
			for k, c := range t {
				walk(c, append(path, k))
			}
		case []any:
			for i, c := range t {
				walk(c, append(path, strconv.Itoa(i)))
			}
		}
	}
	walk(doc, nil)
	if bestScore < 0 {
		return append([]string(nil), reported...)
	}
	return best
}
