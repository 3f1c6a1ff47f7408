package apperr_test

import (
	"errors"
	"io"
	"testing"

	"github.com/shelflive/shelflive/internal/apperr"
)

var errDeclared = apperr.InvalidField("store_id", "unknown_store", "门店不存在", "Unknown store.")

func TestDerivedErrorsMatchTheirDeclaration(t *testing.T) {
	other := apperr.InvalidField("store_id", "unknown_store", "门店不存在", "Unknown store.")
	for name, err := range map[string]error{
		"At":       errDeclared.At("row 3"),
		"With":     errDeclared.With("没有这个门店：X", "No store X."),
		"Wrap":     errDeclared.Wrap(io.EOF),
		"chained":  errDeclared.At("row 3").With("a", "b").Wrap(io.EOF),
		"wrapped":  errors.Join(io.ErrUnexpectedEOF, errDeclared.At("x")),
		"declared": errDeclared,
	} {
		if !errors.Is(err, errDeclared) {
			t.Errorf("%s: errors.Is(err, declared) = false", name)
		}
		if errors.Is(err, other) {
			t.Errorf("%s: matches another variable with the same code text", name)
		}
		if e := apperr.As(err); e.Code != "unknown_store" || e.Kind != apperr.Invalid {
			t.Errorf("%s: code/kind lost: %+v", name, e)
		}
	}
	if d := errDeclared.At("row 3"); d.Field != "row 3" || errDeclared.Field != "store_id" {
		t.Fatalf("At changed the declaration: %q %q", d.Field, errDeclared.Field)
	}
	if d := errDeclared.With("甲", "A"); d.Message != "甲" || d.English != "A" || errDeclared.English != "Unknown store." {
		t.Fatalf("With: %+v", d)
	}
	if !errors.Is(errDeclared.Wrap(io.EOF), io.EOF) {
		t.Fatal("Wrap hides its cause from errors.Is")
	}
	if errors.Is(errDeclared, apperr.ErrBusy) {
		t.Fatal("unrelated declarations match")
	}
}

func TestNotFoundAs(t *testing.T) {
	named := apperr.InvalidField("sku_id", "unknown_sku_x", "规格不存在", "Unknown SKU.")
	if err := apperr.NotFoundAs(apperr.ErrNotFound.Wrap(io.EOF), named); err != named {
		t.Fatalf("not found: %v, want the named error", err)
	}
	if err := apperr.NotFoundAs(io.ErrUnexpectedEOF, named); err != io.ErrUnexpectedEOF {
		t.Fatalf("an outage: %v, want it unchanged", err)
	}
	if err := apperr.NotFoundAs(nil, named); err != nil {
		t.Fatalf("nil: %v", err)
	}
}
