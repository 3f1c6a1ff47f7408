package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"
)

// jkind is the JSON type of a jvalue.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jvalue is a JSON value that keeps object member order. The CBV event hash
// depends on member order in a few places (bizTransaction, source and
// destination objects are concatenated in document order), and encoding/json
// maps lose it, so the hash works on this tree instead.
type jvalue struct {
	kind jkind
	b    bool
	s    string // string value, or the number literal as written
	arr  []*jvalue
	obj  []jmember
}

type jmember struct {
	key string
	val *jvalue
}

// get returns the member named key of an object, or nil.
func (v *jvalue) get(key string) *jvalue {
	if v == nil || v.kind != jObject {
		return nil
	}
	for _, m := range v.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// str returns the string value, or "" for anything else.
func (v *jvalue) str() string {
	if v == nil || v.kind != jString {
		return ""
	}
	return v.s
}

// maxDepth bounds nesting so hostile documents cannot exhaust the stack.
const maxDepth = 64

// parseOrdered parses one JSON value and rejects trailing data. It is a
// small recursive-descent parser: json.Decoder's token API allocates per
// token and was a third of the capture cost.
func parseOrdered(data []byte) (*jvalue, error) {
	p := &jparser{data: data}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

type jparser struct {
	data []byte
	pos  int
}

func (p *jparser) errorf(format string, args ...any) error {
	return fmt.Errorf("json: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jparser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses one JSON value at p.pos. It is long because it is the one
// switch over the kinds of value (object, array, string, literal, number),
// each case short and reading the bytes in place.
func (p *jparser) value(depth int) (*jvalue, error) {
	if depth > maxDepth {
		return nil, errors.New("json: nesting too deep")
	}
	if p.pos >= len(p.data) {
		return nil, io.ErrUnexpectedEOF
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		p.pos++
		v := &jvalue{kind: jObject}
		p.skipWS()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return v, nil
		}
		for {
			p.skipWS()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return nil, p.errorf("expected an object key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skipWS()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, p.errorf("expected ':'")
			}
			p.pos++
			p.skipWS()
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.obj = append(v.obj, jmember{key: k, val: e})
			p.skipWS()
			if p.pos >= len(p.data) {
				return nil, io.ErrUnexpectedEOF
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == '}' {
				p.pos++
				return v, nil
			}
			return nil, p.errorf("expected ',' or '}'")
		}
	case c == '[':
		p.pos++
		v := &jvalue{kind: jArray}
		p.skipWS()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return v, nil
		}
		for {
			p.skipWS()
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, e)
			p.skipWS()
			if p.pos >= len(p.data) {
				return nil, io.ErrUnexpectedEOF
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == ']' {
				p.pos++
				return v, nil
			}
			return nil, p.errorf("expected ',' or ']'")
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jvalue{kind: jString, s: s}, nil
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []struct {
			text string
			v    jvalue
		}{{"true", jvalue{kind: jBool, b: true}}, {"false", jvalue{kind: jBool}}, {"null", jvalue{kind: jNull}}} {
			if bytes.HasPrefix(p.data[p.pos:], []byte(lit.text)) {
				p.pos += len(lit.text)
				v := lit.v
				return &v, nil
			}
		}
		return nil, p.errorf("invalid literal")
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		for p.pos < len(p.data) {
			c := p.data[p.pos]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				p.pos++
				continue
			}
			break
		}
		lit := string(p.data[start:p.pos])
		if !reJSONNumber.MatchString(lit) {
			return nil, p.errorf("invalid number %q", lit)
		}
		return &jvalue{kind: jNumber, s: lit}, nil
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

var reJSONNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)

// str reads a JSON string; escapes are decoded by encoding/json.
func (p *jparser) str() (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '\\':
			escaped = true
			p.pos += 2
			continue
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errorf("invalid string: %v", err)
			}
			return s, nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		}
		p.pos++
	}
	return "", io.ErrUnexpectedEOF
}

// toAny converts to the encoding/json shapes (numbers as json.Number) the
// schema validator and the field extraction use.
func toAny(v *jvalue) any {
	switch v.kind {
	case jNull:
		return nil
	case jBool:
		return v.b
	case jNumber:
		return json.Number(v.s)
	case jString:
		return v.s
	case jArray:
		out := make([]any, len(v.arr))
		for i, e := range v.arr {
			out[i] = toAny(e)
		}
		return out
	default:
		out := make(map[string]any, len(v.obj))
		for _, m := range v.obj {
			out[m.key] = toAny(m.val)
		}
		return out
	}
}
