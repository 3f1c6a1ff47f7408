package insight_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/insight"
)

type evalProduct struct {
	ID      int64    `json:"id"`
	Key     string   `json:"key"`
	Name    string   `json:"name"`
	NameEN  string   `json:"name_en"`
	Aliases []string `json:"aliases"`
	Specs   string   `json:"specs"`
	SKUs    []string `json:"skus"`
}

type evalCase struct {
	line                  int
	pinned, text, product string
	intent                insight.Intent
	sentiment             insight.Sentiment
}

var (
	segOnce sync.Once
	seg     *insight.Segmenter
)

// loadedSegmenter loads gse's dictionary once per test binary.
func loadedSegmenter(tb testing.TB) *insight.Segmenter {
	tb.Helper()
	segOnce.Do(func() {
		seg = insight.NewSegmenter()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := seg.Wait(ctx); err != nil {
			tb.Fatalf("segmenter: %v", err)
		}
		tb.Logf("gse dictionary loaded in %v", seg.LoadTime())
	})
	return seg
}

// evalCatalog reads corpus/catalog.json: products with aliases and SKUs.
func evalCatalog(tb testing.TB) ([]insight.CatalogProduct, map[string]int64, map[int64]string) {
	tb.Helper()
	raw, err := os.ReadFile("corpus/catalog.json")
	if err != nil {
		tb.Fatal(err)
	}
	var ps []evalProduct
	if err := json.Unmarshal(raw, &ps); err != nil {
		tb.Fatal(err)
	}
	var out []insight.CatalogProduct
	byKey, byID := map[string]int64{}, map[int64]string{}
	for _, p := range ps {
		cp := insight.CatalogProduct{ID: p.ID, Name: p.Name, NameEN: p.NameEN, Aliases: p.Aliases, Specs: p.Specs}
		for i, k := range p.SKUs {
			cp.SKUs = append(cp.SKUs, insight.CatalogSKU{ID: p.ID*100 + int64(i), Name: k})
		}
		out = append(out, cp)
		byKey[p.Key], byID[p.ID] = p.ID, p.Key
	}
	return out, byKey, byID
}

// evalSet reads a labelled set: pinned, comment, product, intent, sentiment.
func evalSet(tb testing.TB, path string) []evalCase {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []evalCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			tb.Fatalf("%s:%d: want 5 columns, got %d", path, n, len(c))
		}
		out = append(out, evalCase{line: n, pinned: c[0], text: c[1], product: c[2], intent: insight.Intent(c[3]), sentiment: insight.Sentiment(c[4])})
	}
	return out
}

// TestClassifierEvaluation reports the shipped model on its own labelled
// sets (corpus/*.tsv: it was trained on them, so these are fit, not
// accuracy; TestClassifierCrossValidation measures accuracy) and, with
// SHELFLIVE_HELDOUT4=1, on testdata/heldout4.tsv, the set nothing was ever
// tuned on: run it rarely and say how often (docs/BENCHMARKS.md); likewise
// testdata/complaints_heldout.tsv with SHELFLIVE_HELDOUT_COMPLAINTS=1. Run
// with -v to see the tables.
func TestClassifierEvaluation(t *testing.T) {
	cat, byKey, byID := evalCatalog(t)
	s := loadedSegmenter(t)
	ix := insight.BuildIndex(s, cat)
	cases := evalSet(t, "corpus/eval.tsv")
	if len(cases) < 200 {
		t.Fatalf("only %d labelled comments", len(cases))
	}
	for _, f := range []string{"corpus/eval.tsv", "corpus/train.tsv", "corpus/dev.tsv", "corpus/heldout2.tsv", "corpus/heldout3.tsv", "corpus/complaints_implicit.tsv"} {
		evaluate(t, f+" (trained on)", ix, s, evalSet(t, f), byKey, byID)
	}
	if os.Getenv("SHELFLIVE_HELDOUT4") != "" {
		evaluate(t, "testdata/heldout4.tsv", ix, s, evalSet(t, "testdata/heldout4.tsv"), byKey, byID)
	}
	if os.Getenv("SHELFLIVE_HELDOUT_COMPLAINTS") != "" {
		evaluate(t, "testdata/complaints_heldout.tsv", ix, s, evalSet(t, "testdata/complaints_heldout.tsv"), byKey, byID)
	}
}

func evaluate(t *testing.T, name string, ix *insight.Index, s *insight.Segmenter, cases []evalCase, byKey map[string]int64, byID map[int64]string) (intentAcc, productAcc float64) {
	type tally struct{ n, ok int }
	perIntent := map[insight.Intent]*tally{}
	var intentOK, productOK, sentOK int
	var misses []string
	for _, c := range cases {
		r := ix.Classify(s, c.text, byKey[c.pinned])
		got := "-"
		if r.ProductID != nil {
			got = byID[*r.ProductID]
		}
		tl := perIntent[c.intent]
		if tl == nil {
			tl = &tally{}
			perIntent[c.intent] = tl
		}
		tl.n++
		if r.Intent == c.intent {
			tl.ok++
			intentOK++
		}
		if got == c.product {
			productOK++
		}
		if r.Sentiment == c.sentiment {
			sentOK++
		}
		if r.Intent != c.intent || got != c.product {
			misses = append(misses, fmt.Sprintf("%s:%d %q (pinned %s): intent %s want %s, product %s want %s", name, c.line, c.text, c.pinned, r.Intent, c.intent, got, c.product))
		}
	}
	n := float64(len(cases))
	intentAcc, productAcc = float64(intentOK)/n, float64(productOK)/n
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d comments\n| intent | comments | correct | accuracy |\n|---|---|---|---|\n", name, len(cases))
	keys := make([]string, 0, len(perIntent))
	for k := range perIntent {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		tl := perIntent[insight.Intent(k)]
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f %% |\n", k, tl.n, tl.ok, 100*float64(tl.ok)/float64(tl.n))
	}
	fmt.Fprintf(&b, "| **all intents** | %d | %d | %.1f %% |\n", len(cases), intentOK, 100*intentAcc)
	fmt.Fprintf(&b, "| product attribution | %d | %d | %.1f %% |\n", len(cases), productOK, 100*productAcc)
	fmt.Fprintf(&b, "| sentiment | %d | %d | %.1f %% |\n", len(cases), sentOK, 100*float64(sentOK)/n)
	t.Log("\n" + b.String())
	for _, m := range misses {
		t.Log(m)
	}
	return intentAcc, productAcc
}

// TestIndexRebuilt: an index built again later (the reader rebuilds every
// IndexTTL; the classify API every call), after the first build taught the
// segmenter the catalogue's names, still knows a product by a word of its
// name (草莓 for 丹东99草莓).
func TestIndexRebuilt(t *testing.T) {
	cat, byKey, _ := evalCatalog(t)
	s := loadedSegmenter(t)
	insight.BuildIndex(s, cat)
	ix := insight.BuildIndex(s, cat)
	for _, text := range []string{"草莓太贵了", "鸡蛋多少钱", "大闸蟹有母的吗"} {
		r := ix.Classify(s, text, 0)
		if r.ProductID == nil {
			t.Errorf("%q: no product after a rebuild", text)
		}
	}
	if r := ix.Classify(s, "草莓太贵了", 0); r.ProductID != nil && *r.ProductID != byKey["草莓"] {
		t.Errorf("草莓太贵了: product %d", *r.ProductID)
	}
}
