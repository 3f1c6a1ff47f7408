package wxmini_test

import (
	"maps"
	"testing"

	"github.com/shelflive/shelflive/internal/wxmini"
)

// TestParseTemplates: SHELFLIVE_WECHAT_MINIPROGRAM_TEMPLATES names template
// ids by kind; an unknown kind, an empty id or a kind twice is refused, so
// a typo stops the node at start instead of asking viewers for nothing.
func TestParseTemplates(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"OK", "live_start=TMPL-a, order_ready=TMPL-b", map[string]string{"live_start": "TMPL-a", "order_ready": "TMPL-b"}},
		{"OKOne", "order_ready=TMPL-b", map[string]string{"order_ready": "TMPL-b"}},
		{"OKEmpty", "", map[string]string{}},
		{"ErrUnknownKind", "live_end=TMPL-a", nil},
		{"ErrNoID", "live_start=", nil},
		{"ErrNoEquals", "TMPL-a", nil},
		{"ErrTwice", "live_start=TMPL-a,live_start=TMPL-c", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wxmini.ParseTemplates(tc.in)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("%q: accepted as %v", tc.in, got)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("%q: %v %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}
