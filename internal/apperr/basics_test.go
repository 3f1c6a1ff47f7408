package apperr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
)

func TestNewAndInvalidField(t *testing.T) {
	e := apperr.New(apperr.Conflict, "sold_out", "已售罄", "Sold out.")
	if e.Kind != apperr.Conflict || e.Code != "sold_out" || e.Message != "已售罄" || e.English != "Sold out." || e.Field != "" {
		t.Fatalf("New: %+v", e)
	}
	if e.Error() != "sold_out: Sold out." {
		t.Fatalf("Error() = %q", e.Error())
	}
	f := apperr.InvalidField("price_fen", "invalid_price", "价格无效", "Invalid price.")
	if f.Kind != apperr.Invalid || f.Field != "price_fen" {
		t.Fatalf("InvalidField: %+v", f)
	}
}

func TestIsAndAsThroughWrapping(t *testing.T) {
	base := apperr.New(apperr.NotFound, "no_lot", "批次不存在", "No such lot.")
	wrapped := fmt.Errorf("hold lot 7: %w", base)
	if !apperr.Is(wrapped, "no_lot") || apperr.Is(wrapped, "not_found") || !errors.Is(wrapped, base) {
		t.Fatal("Is/errors.Is do not see through %w")
	}
	if got := apperr.As(wrapped); got != base {
		t.Fatalf("As = %+v, want the wrapped *Error", got)
	}
	if apperr.Is(nil, "no_lot") || apperr.Is(errors.New("no_lot"), "no_lot") {
		t.Fatal("Is matched a nil or plain error by its text")
	}
}

// TestInternalNeverLeaks: a plain error becomes "internal" with a safe
// message; its text stays in Err (for logs) and in Error(), never in the
// messages users see.
func TestInternalNeverLeaks(t *testing.T) {
	cause := errors.New("pq: password authentication failed for user shelflive")
	e := apperr.As(cause)
	if e.Kind != apperr.Internal || e.Code != "internal" || !errors.Is(e, cause) {
		t.Fatalf("As(plain) = %+v", e)
	}
	if strings.Contains(e.Message, "password") || strings.Contains(e.English, "password") {
		t.Fatalf("the cause leaked into the user messages: %q / %q", e.Message, e.English)
	}
	if !strings.Contains(e.Error(), "password authentication failed") {
		t.Fatalf("the cause is missing from Error() (logs): %q", e.Error())
	}
}

func TestSharedErrors(t *testing.T) {
	for _, tc := range []struct {
		e    *apperr.Error
		kind apperr.Kind
		code string
	}{
		{apperr.ErrNotFound, apperr.NotFound, "not_found"},
		{apperr.ErrUnauthorized, apperr.Unauthorized, "unauthorized"},
		{apperr.ErrForbidden, apperr.Forbidden, "forbidden"},
	} {
		if tc.e.Kind != tc.kind || tc.e.Code != tc.code || tc.e.Message == "" || tc.e.English == "" {
			t.Errorf("%s: %+v", tc.code, tc.e)
		}
	}
}
