package compliance_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/compliance"
)

// evalCase is one line of testdata/eval.tsv.
type evalCase struct {
	line     int
	expected compliance.Verdict
	in       compliance.Input
	text     string
}

func loadEvalFile(tb testing.TB, name string) []evalCase {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []evalCase
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			tb.Fatalf("%s:%d: %d columns", name, n, len(cols))
		}
		c := evalCase{line: n, expected: compliance.Verdict(cols[0]), text: cols[3],
			in: compliance.Input{Context: compliance.Context(cols[1]), ProductType: compliance.ProductType(cols[2])}}
		if err := c.in.Validate(); err != nil {
			tb.Fatalf("%s:%d: %v", name, n, err)
		}
		switch c.expected {
		case compliance.Violation, compliance.NeedsProof, compliance.OK:
		default:
			tb.Fatalf("%s:%d: expected %q", name, n, c.expected)
		}
		out = append(out, c)
	}
	return out
}

// TestEvaluation measures the base rules on the evaluation sets: precision
// and recall of the "violation" verdict (target: recall ≥ 95 % at precision
// ≥ 90 %), and how many needs-evidence and allowed phrases get the verdict
// they should. eval.tsv is Chinese, eval_en.tsv English (rules_en.json was
// tuned on it). docs/BENCHMARKS.md records the figures (go test -v prints them).
func TestEvaluation(t *testing.T) {
	for _, set := range []struct {
		file string
		min  int
	}{{"eval.tsv", 200}, {"eval_en.tsv", 100}} {
		t.Run(set.file, func(t *testing.T) { evaluate(t, set.file, set.min) })
	}
}

func evaluate(t *testing.T, file string, min int) {
	cases := loadEvalFile(t, "testdata/"+file)
	if len(cases) < min {
		t.Fatalf("%s has %d phrases, want at least %d", file, len(cases), min)
	}
	rs := compliance.Base()
	var tp, fp, fn int
	confusion := map[[2]compliance.Verdict]int{}
	for _, c := range cases {
		got := rs.Check(c.text, c.in).Verdict
		confusion[[2]compliance.Verdict{c.expected, got}]++
		switch {
		case got == compliance.Violation && c.expected == compliance.Violation:
			tp++
		case got == compliance.Violation:
			fp++
			t.Logf("false positive, %s:%d %q → %s", file, c.line, c.text, got)
		case c.expected == compliance.Violation:
			fn++
			t.Logf("missed violation, %s:%d %q → %s", file, c.line, c.text, got)
		case got != c.expected:
			t.Logf("%s:%d %q: want %s, got %s", file, c.line, c.text, c.expected, got)
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(tp+fn)
	exact := 0
	for k, n := range confusion {
		if k[0] == k[1] {
			exact += n
		}
	}
	t.Logf("%s: phrases %d (violations %d); violation precision %.3f recall %.3f; exact verdict %d/%d (%.3f)",
		file, len(cases), tp+fn, precision, recall, exact, len(cases), float64(exact)/float64(len(cases)))
	for _, want := range []compliance.Verdict{compliance.Violation, compliance.NeedsProof, compliance.OK} {
		t.Logf("expected %-14s → violation %3d  needs_evidence %3d  ok %3d", want,
			confusion[[2]compliance.Verdict{want, compliance.Violation}], confusion[[2]compliance.Verdict{want, compliance.NeedsProof}], confusion[[2]compliance.Verdict{want, compliance.OK}])
	}
	if recall < 0.95 || precision < 0.90 {
		t.Errorf("violation recall %.3f (want ≥ 0.95), precision %.3f (want ≥ 0.90)", recall, precision)
	}
}

// TestHoldout reports how the rules do on phrases that were not used to
// tune them. holdout.tsv was written after the term lists and has since
// been read while writing the pattern rules (a development set now);
// holdout2.tsv was committed before the patterns and never tuned on;
// holdout_en.tsv was committed before any English rule, never tuned on. It
// fails only below a floor well under the recorded figures (a sign the
// rules broke); docs/BENCHMARKS.md has the figures.
func TestHoldout(t *testing.T) {
	for _, set := range []struct {
		file  string
		floor float64
	}{{"holdout.tsv", 0.3}, {"holdout2.tsv", 0.3}, {"holdout3.tsv", 0.3}, {"holdout_en.tsv", 0.5}} {
		recall := heldOut(t, set.file)
		if recall < set.floor {
			t.Errorf("%s: violation recall %.3f, below %.2f", set.file, recall, set.floor)
		}
	}
}

func heldOut(t *testing.T, file string) (recall float64) {
	cases := loadEvalFile(t, "testdata/"+file)
	rs := compliance.Base()
	var tp, fp, fn, exact int
	for _, c := range cases {
		got := rs.Check(c.text, c.in).Verdict
		if got == c.expected {
			exact++
		} else {
			t.Logf("%s:%d %q: want %s, got %s", file, c.line, c.text, c.expected, got)
		}
		switch {
		case got == compliance.Violation && c.expected == compliance.Violation:
			tp++
		case got == compliance.Violation:
			fp++
		case c.expected == compliance.Violation:
			fn++
		}
	}
	recall = float64(tp) / float64(tp+fn)
	t.Logf("%s: phrases %d (violations %d); violation precision %.3f recall %.3f; exact verdict %d/%d",
		file, len(cases), tp+fn, float64(tp)/float64(max(1, tp+fp)), recall, exact, len(cases))
	return recall
}
