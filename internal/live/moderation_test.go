package live_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/live"
)

func TestModerator(t *testing.T) {
	m := &live.Moderator{Blocked: live.DefaultBlocked, MinGap: 500 * time.Millisecond}
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name, user, text string
		staff            bool
		at               time.Duration
		want             string
		code             string
	}{
		{"OK", "a", "  草莓甜吗？ ", false, 0, "草莓甜吗？", ""},
		{"ErrFlood", "a", "还有吗", false, 100 * time.Millisecond, "", "comment_rate_limited"},
		{"OKAfterGap", "a", "还有吗", false, time.Second, "还有吗", ""},
		{"ErrRepeat", "a", "还有吗", false, 2 * time.Second, "", "comment_repeat"},
		{"ErrBlocked", "b", "加微信领券", false, 0, "", "comment_blocked"},
		{"ErrLink", "c", "看 https://x.cn", false, 0, "", "comment_link"},
		{"ErrEmpty", "d", "\u200b \t", false, 0, "", "comment_empty"},
		{"ErrLong", "e", strings.Repeat("好", 101), false, 0, "", "comment_too_long"},
		{"StaffSkipsWordFilter", "host", "加微信的都是骗子，请走官方下单", true, 0, "加微信的都是骗子，请走官方下单", ""},
		{"ControlCharsStripped", "f", "hi\x00\x1bthere", false, 0, "hithere", ""},
		{"ZWJEmojiKeptWhole", "g", "全家都爱吃👨\u200d👩\u200d👧 厨师推荐🧑\u200d🍳❤\ufe0f\u200d🔥", false, 0, "全家都爱吃👨\u200d👩\u200d👧 厨师推荐🧑\u200d🍳❤\ufe0f\u200d🔥", ""},
		{"ZWJBetweenWordsStripped", "h", "加\u200d微信", false, 0, "", "comment_blocked"},
		{"ZWJAtEdgesStripped", "i", "\u200d🍓\u200d 好", false, 0, "🍓 好", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Check(tt.user, tt.text, tt.staff, t0.Add(tt.at))
			code := ""
			if err != nil {
				code = err.(interface{ Error() string }).Error()
			}
			if tt.code == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.code != "" && (err == nil || !contains(code, tt.code)) {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
			if got != tt.want {
				t.Fatalf("text = %q, want %q", got, tt.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
