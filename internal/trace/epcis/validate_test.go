package epcis

import (
	"os"
	"path/filepath"
	"testing"
)

func exampleFiles(t testing.TB) []string {
	t.Helper()
	top, _ := filepath.Glob("testdata/gs1examples/*.jsonld")
	sub, _ := filepath.Glob("testdata/gs1examples/*/*.jsonld")
	files := append(top, sub...)
	if len(files) != 47 {
		t.Fatalf("want 47 GS1 examples, found %d", len(files))
	}
	return files
}

func TestValidateGS1Examples(t *testing.T) {
	for _, f := range exampleFiles(t) {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(doc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
