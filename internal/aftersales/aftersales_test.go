package aftersales_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/aftersales"
	"github.com/shelflive/shelflive/internal/catalog"
)

func TestAskValidate(t *testing.T) {
	photo := "/uploads/0123456789abcdef01234567.jpg"
	for name, tc := range map[string]struct {
		ask  aftersales.Ask
		want error
	}{
		"OK":              {aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged", AmountFen: 100}, nil},
		"QualityOK":       {aftersales.Ask{Kind: aftersales.Quality, Reason: "spoiled", AmountFen: 100, Photos: []string{photo}}, nil},
		"ErrKind":         {aftersales.Ask{Kind: "swap", Reason: "damaged", AmountFen: 100}, aftersales.ErrKind},
		"ErrReason":       {aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "because", AmountFen: 100}, aftersales.ErrReason},
		"ErrPhotosNeeded": {aftersales.Ask{Kind: aftersales.Quality, Reason: "spoiled", AmountFen: 100}, aftersales.ErrPhotos},
		"ErrForeignPhoto": {aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "spoiled", AmountFen: 100, Photos: []string{"https://evil.example/x.jpg"}}, aftersales.ErrPhotos},
		"ErrTooManyPhotos": {aftersales.Ask{Kind: aftersales.Quality, Reason: "spoiled", AmountFen: 100,
			Photos: []string{photo, photo, photo, photo, photo, photo, photo}}, aftersales.ErrPhotos},
		"ErrReturnNoLines": {aftersales.Ask{Kind: aftersales.ReturnRefund, Reason: "damaged", AmountFen: 100}, aftersales.ErrLines},
		"ErrDuplicateLine": {aftersales.Ask{Kind: aftersales.ReturnRefund, Reason: "damaged", AmountFen: 100,
			Lines: []aftersales.Line{{SKUID: 1, Quantity: 1}, {SKUID: 1, Quantity: 2}}}, aftersales.ErrLines},
		"ErrAmount": {aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged"}, aftersales.ErrAmount},
		"ErrNote":   {aftersales.Ask{Kind: aftersales.RefundOnly, Reason: "damaged", AmountFen: 1, Note: string(make([]rune, 301))}, aftersales.ErrNote},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.ask.Validate()
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWindowsAndStockRule(t *testing.T) {
	if aftersales.Window(catalog.Chilled) != 48*time.Hour || aftersales.Window(catalog.Frozen) != 72*time.Hour ||
		aftersales.Window(catalog.Ambient) != 7*24*time.Hour || aftersales.Window("") != 48*time.Hour {
		t.Fatal("windows changed: update docs/ARCHITECTURE.md and the order page text")
	}
	if !aftersales.Fresh(catalog.Chilled) || !aftersales.Fresh(catalog.Frozen) || aftersales.Fresh(catalog.Ambient) {
		t.Fatal("only ambient goods may go back on sale")
	}
	for _, p := range []string{"/uploads/0123456789abcdef0123456.jpg", "/uploads/0123456789abcdef01234567.exe", "/uploads/../secret/0123456789abcdef0.png", "/uploads/0123456789ABCDEF01234567.png"} {
		if aftersales.ValidPhoto(p) {
			t.Fatalf("ValidPhoto(%q) = true", p)
		}
	}
}
