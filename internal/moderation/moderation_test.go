package moderation_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/moderation"
)

func TestParseWords(t *testing.T) {
	tests := []struct {
		name, in string
		want     []moderation.Word
		err      error
	}{
		{"Text", "# shop words\n私聊\n\n低价代购\n", []moderation.Word{{"低价代购", "block"}, {"私聊", "block"}}, nil},
		{"CSVWithHeader", "\xef\xbb\xbfterm,action\n私聊,block\n傻,mask\n", []moderation.Word{{"傻", "mask"}, {"私聊", "block"}}, nil},
		{"ChineseHeader", "词条,处理\n私聊,\n", []moderation.Word{{"私聊", "block"}}, nil},
		{"DuplicatesByNormalForm", "私聊\n私 聊\nVX\nｖｘ\n", []moderation.Word{{"VX", "block"}, {"私聊", "block"}}, nil},
		{"QuotedComma", "\"a,b\",mask\n", []moderation.Word{{"a,b", "mask"}}, nil},
		{"ErrAction", "私聊,delete\n", nil, moderation.ErrInvalidWord},
		{"ErrPunctuationOnly", "!!!\n", nil, moderation.ErrInvalidWord},
		{"ErrTooLong", strings.Repeat("长", 31) + "\n", nil, moderation.ErrInvalidWord},
		{"ErrNotUTF8", "\xff\xfe私聊", nil, moderation.ErrInvalidWord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := moderation.ParseWords([]byte(tt.in))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("ErrTooMany", func(t *testing.T) {
		var b strings.Builder
		for i := range moderation.MaxWords + 1 {
			b.WriteString("词" + strings.Repeat("a", i%20) + string(rune('a'+i%26)) + string(rune(0x4e00+i)) + "\n")
		}
		if _, err := moderation.ParseWords([]byte(b.String())); !errors.Is(err, moderation.ErrTooManyWords) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestWordsRoundTrip: what the admin exports reads back as the same list,
// from CSV and from text.
func TestWordsRoundTrip(t *testing.T) {
	words, err := moderation.CleanWords([]moderation.Word{{"私聊", ""}, {"傻", "mask"}, {"a,b", "block"}, {`say "hi"`, "mask"}, {"VX号", "block"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"CSV":  func(b *bytes.Buffer) error { return moderation.WriteCSV(b, words) },
		"Text": func(b *bytes.Buffer) error { return moderation.WriteText(b, words) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			back, err := moderation.ParseWords(b.Bytes())
			if err != nil || len(back) != len(words) {
				t.Fatalf("read back %v %v, want %v", back, err, words)
			}
			for i := range back {
				if back[i] != words[i] {
					t.Fatalf("read back %v, want %v", back, words)
				}
			}
		})
	}
}

func TestWordSetMatch(t *testing.T) {
	set := moderation.NewWordSet([]moderation.Word{{"私聊", "block"}, {"代购", "block"}, {"傻", "mask"}, {"VX", "block"}})
	tests := []struct {
		name, text, block string
		mask              []string
	}{
		{"Clean", "草莓甜吗？", "", nil},
		{"Block", "可以私聊吗", "私聊", nil},
		{"Spaced", "可以私 聊吗", "私聊", nil},
		{"Punctuated", "私·聊", "私聊", nil},
		{"FullWidthUpper", "加ＶＸ", "VX", nil},
		{"Mask", "你傻不傻", "", []string{"傻", "傻"}},
		{"BlockWins", "傻 代购", "代购", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block, mask := set.Match(tt.text)
			if block != tt.block || len(mask) != len(tt.mask) {
				t.Fatalf("Match(%q) = %q %v, want %q %v", tt.text, block, mask, tt.block, tt.mask)
			}
		})
	}
	if got, ok := moderation.Mask("你傻不傻", []string{"傻"}); !ok || got != "你＊不＊" {
		t.Fatalf("Mask = %q %v", got, ok)
	}
	if _, ok := moderation.Mask("你 傻", []string{"你傻"}); ok {
		t.Fatal("a term found only through normalization was reported masked")
	}
	var empty *moderation.WordSet
	if b, m := empty.Match("私聊"); b != "" || m != nil {
		t.Fatal("nil set matched")
	}
}

// TestContact: phone numbers and WeChat IDs, however written, are caught;
// prices, quantities, order numbers and dates are not.
func TestContact(t *testing.T) {
	tests := []struct{ text, want string }{
		{"13812345678", moderation.SignalPhone},
		{"电话138 1234 5678", moderation.SignalPhone},
		{"138-1234-5678联系", moderation.SignalPhone},
		{"+86 13812345678", moderation.SignalPhone},
		{"１３８１２３４５６７８", moderation.SignalPhone},
		{"幺三八一二三四五六七八", moderation.SignalPhone},
		{"壹叁捌壹贰叁肆伍陆柒捌", moderation.SignalPhone},
		{"加微信 abc_12345", moderation.SignalWeChat},
		{"vx：shop888", moderation.SignalWeChat},
		{"ＶＸ号 fresh_fruit", moderation.SignalWeChat},
		{"威信12345678", moderation.SignalWeChat},
		{"扣扣 12345678", moderation.SignalWeChat},
		{"wxid_a1b2c3d4", moderation.SignalWeChat},
		{"草莓多少钱一斤？", ""},
		{"买2盒 送1盒 29.9元", ""},
		{"订单号 SL202612070001234 还没发货", ""},
		{"12月7日 20:00 开播", ""},
		{"微信支付可以吗", ""},
		{"用微信付款", ""},
		{"我的尾号是5678", ""},
		{"12345678901234567", ""},
		{"两盒", ""},
	}
	for _, tt := range tests {
		if got := moderation.Contact(tt.text); got != tt.want {
			t.Errorf("Contact(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestStrikes(t *testing.T) {
	s := &moderation.Strikes{Limit: 3, Window: time.Minute}
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if s.Add("a", t0) || s.Add("a", t0.Add(10*time.Second)) {
		t.Fatal("muted before the limit")
	}
	if s.Add("b", t0.Add(11*time.Second)) {
		t.Fatal("another viewer's strike counted")
	}
	if s.Add("a", t0.Add(2*time.Minute)) { // the first two fell out of the window
		t.Fatal("old strikes counted")
	}
	if s.Add("a", t0.Add(2*time.Minute+time.Second)) || !s.Add("a", t0.Add(2*time.Minute+2*time.Second)) {
		t.Fatal("the third strike within the window did not mute")
	}
	if s.Add("a", t0.Add(2*time.Minute+3*time.Second)) {
		t.Fatal("strikes were not cleared after the mute")
	}
}

func TestRestrictionValidate(t *testing.T) {
	now := time.Now()
	later := now.Add(time.Minute)
	for _, tt := range []struct {
		name string
		r    moderation.Restriction
		ok   bool
	}{
		{"RoomMute", moderation.Restriction{CustomerID: 1, RoomID: 2, Scope: "room"}, true},
		{"MerchantBan", moderation.Restriction{CustomerID: 1, RoomID: 2, Scope: "merchant"}, true},
		{"ErrRoomMissing", moderation.Restriction{CustomerID: 1, Scope: "room"}, false},
		{"ErrScope", moderation.Restriction{CustomerID: 1, RoomID: 2, Scope: "world"}, false},
		{"ErrReason", moderation.Restriction{CustomerID: 1, RoomID: 2, Scope: "room", Reason: strings.Repeat("长", 201)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v", err)
			}
			if tt.ok && tt.r.Scope == "merchant" && tt.r.RoomID != 0 {
				t.Fatal("a ban kept its room")
			}
		})
	}
	r := moderation.Restriction{Until: &later}
	if !r.Active(now) || r.Active(later) {
		t.Fatal("Active by Until")
	}
	r.LiftedAt = &now
	if r.Active(now) {
		t.Fatal("a lifted restriction is active")
	}
}
