package identity_test

import (
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/identity"
)

func TestCheckNewPassword(t *testing.T) {
	for _, c := range []struct {
		name, pw string
		want     error
	}{
		{"OK", "Fresh-Harbour-42", nil},
		{"OKLongOneKind", "correcthorsebatterystaple", nil},
		{"OKChinese", "我家门口的水果店2026", nil},
		{"ErrShort", "Ab1!", identity.ErrPasswordShort},
		{"ErrLong", string(make([]byte, 129)), identity.ErrPasswordLong},
		{"ErrCommon", "Password123", identity.ErrPasswordCommon},
		{"ErrDemo", "shelflive-demo", identity.ErrPasswordCommon},
		{"ErrRepeated", "abababababab", identity.ErrPasswordCommon},
		{"ErrLogin", "xx-Qingqing-2026", identity.ErrPasswordLogin},
		{"ErrSimple", "onlylowercase", identity.ErrPasswordSimple},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := identity.CheckNewPassword(c.pw, "qingqing", "green"); !errors.Is(err, c.want) && err != c.want {
				t.Fatalf("%q: %v, want %v", c.pw, err, c.want)
			}
		})
	}
}
