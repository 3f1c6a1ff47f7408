package insight_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/insight"
)

// BenchmarkClassify: one comment read (segmentation, intent, attribution)
// as fast as it goes.
func BenchmarkClassify(b *testing.B) {
	cat, byKey, _ := evalCatalog(b)
	s := loadedSegmenter(b)
	ix := insight.BuildIndex(s, cat)
	cases := evalSet(b, "corpus/eval.tsv")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		ix.Classify(s, c.text, byKey[c.pinned])
	}
}

// BenchmarkClassifyAt200PerSecond reads comments arriving at 200 a second
// (one every 5 ms, the eval set round-robin) for 5 s per iteration and
// reports the latency of each read: p50 and p99 in µs. The target is
// p99 ≤ 1 ms. Run with -benchtime=1x.
func BenchmarkClassifyAt200PerSecond(b *testing.B) {
	cat, byKey, _ := evalCatalog(b)
	s := loadedSegmenter(b)
	ix := insight.BuildIndex(s, cat)
	cases := evalSet(b, "corpus/eval.tsv")
	var lat []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		tick := time.NewTicker(5 * time.Millisecond)
		for i := 0; i < 1000; i++ {
			<-tick.C
			c := cases[i%len(cases)]
			start := time.Now()
			ix.Classify(s, c.text, byKey[c.pinned])
			lat = append(lat, time.Since(start))
		}
		tick.Stop()
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

// BenchmarkTrainIntentModel: training the intent model on the embedded
// corpus, which the comment reader does once, on its first comment.
func BenchmarkTrainIntentModel(b *testing.B) {
	s := loadedSegmenter(b)
	var samples []insight.Sample
	for _, f := range []string{"corpus/train.tsv", "corpus/train2.tsv", "corpus/eval.tsv", "corpus/dev.tsv", "corpus/heldout2.tsv", "corpus/heldout3.tsv", "corpus/complaints_implicit.tsv"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, insight.ParseSamples(raw)...)
	}
	b.ResetTimer()
	for b.Loop() {
		insight.TrainModel(s, samples, insight.DefaultModelOptions())
	}
}
