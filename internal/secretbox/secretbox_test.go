package secretbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/secretbox"
)

func TestSealOpen(t *testing.T) {
	b, err := secretbox.New(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	s := b.Seal([]byte("apiv3 key"), "payment:wechatpay:merchant:1")
	if strings.Contains(s, "apiv3") || !strings.HasPrefix(s, "v1:") {
		t.Fatalf("sealed value %q", s)
	}
	if s2 := b.Seal([]byte("apiv3 key"), "payment:wechatpay:merchant:1"); s2 == s {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	got, err := b.Open(s, "payment:wechatpay:merchant:1")
	if err != nil || string(got) != "apiv3 key" {
		t.Fatalf("open: %q %v", got, err)
	}
	t.Run("ErrOtherOwner", func(t *testing.T) {
		if _, err := b.Open(s, "payment:wechatpay:merchant:2"); !errors.Is(err, secretbox.ErrOpen) {
			t.Fatalf("opened for another merchant: %v", err)
		}
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		o, _ := secretbox.New(strings.Repeat("j", 40))
		if _, err := o.Open(s, "payment:wechatpay:merchant:1"); !errors.Is(err, secretbox.ErrOpen) {
			t.Fatalf("opened with another key: %v", err)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		bad := s[:len(s)-2] + "AA"
		if bad == s {
			bad = s[:len(s)-2] + "BB"
		}
		if _, err := b.Open(bad, "payment:wechatpay:merchant:1"); !errors.Is(err, secretbox.ErrOpen) {
			t.Fatalf("opened a tampered value: %v", err)
		}
	})
	t.Run("ErrShortKey", func(t *testing.T) {
		if _, err := secretbox.New("short"); err == nil {
			t.Fatal("accepted a short key")
		}
	})
}
