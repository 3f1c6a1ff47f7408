package coldchain

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzFastPayload: whenever the fast parser accepts a message, encoding/json
// must accept it too and produce the same values.
func FuzzFastPayload(f *testing.F) {
	for _, s := range []string{
		`{"ts": 1799999999000, "values": {"temperature": 3.2, "humidity": 71}}`,
		`{"values":{"temperature":-18.5},"ts":1}`,
		` { "ts" : 0 , "values" : { "humidity" : 1e2 , "temperature" : 0.5E-1 } } `,
		`{"ts": 01, "values": {"temperature": 3}}`,
		`{"ts": 1.5, "values": {"temperature": 3}}`,
		`{"ts": 1, "values": {"temperature": "3"}}`,
		`{"ts": 1, "ts": 2, "values": {"temperature": 3}}`,
		`{"ts": 1, "values": {"temperature": 3, "co2": 400}}`,
		`{"t\u0073": 1}`, `{}`, `[]`, `{"ts": 1, "values": {"temperature": 3}} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := fastPayload(b)
		if !ok {
			return
		}
		var slow Payload
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("fast parser accepted %q, encoding/json refused: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
	})
}

func TestFastPayloadShapes(t *testing.T) {
	ok := []string{
		`{"ts": 1799999999000, "values": {"temperature": 3.2, "humidity": 71}}`,
		`{"values":{"temperature":-18.5},"ts":1}`,
	}
	for _, s := range ok {
		if _, good := fastPayload([]byte(s)); !good {
			t.Errorf("fast path refused the common shape %s", s)
		}
	}
	for _, s := range []string{`{"ts": 01, "values": {"temperature": 3}}`, `{"ts": 1, "ts": 2, "values": {"temperature": 3}}`, `{"ts": 1, "values": {"temperature": 3}} x`, `{"ts": 1, "values": {"temperature": NaN}}`} {
		if _, good := fastPayload([]byte(s)); good {
			t.Errorf("fast path accepted %s", s)
		}
	}
}
