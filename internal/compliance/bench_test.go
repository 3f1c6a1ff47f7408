package compliance_test

import (
	"sort"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/compliance"
)

// benchComments are live-room comments of typical length, most of them
// clean, as the hot path sees them.
var benchComments = []string{
	"主播这个草莓甜不甜", "已拍，什么时候发货", "可以到店自提吗", "这个最好吃了家人们冲", "第一次来直播间",
	"原价199今天99", "宝宝能吃吗", "有没有大一点的规格", "降血压吗这个茶", "666", "求链接",
	"冷藏能放几天", "和上次买的一样吗，上次的很新鲜，孩子特别爱吃，这次多买两箱", "有机的吗", "零添加吗",
	"主播好美", "最后一单了吗", "能便宜点吗", "哈哈哈哈哈", "每人最多几件",
}

// BenchmarkCheckComment is the cost of reviewing one comment on the base
// rules plus a merchant layer.
func BenchmarkCheckComment(b *testing.B) {
	rs := merchantRules()
	in := compliance.Input{Context: compliance.CtxComment}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rs.Check(benchComments[i%len(benchComments)], in)
	}
}

// BenchmarkCheckCommentPaced reviews comments at 200 per second (one every
// 5 ms, the load) and reports the latency percentiles of one review.
// Run with a fixed count: -bench CommentPaced -benchtime 2000x (10 s).
func BenchmarkCheckCommentPaced(b *testing.B) {
	rs := merchantRules()
	in := compliance.Input{Context: compliance.CtxComment}
	lat := make([]time.Duration, 0, b.N)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < b.N; i++ {
		<-tick.C
		t0 := time.Now()
		rs.Check(benchComments[i%len(benchComments)], in)
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
}

// BenchmarkCheckDescription is a 600-character product description.
func BenchmarkCheckDescription(b *testing.B) {
	rs := merchantRules()
	text := ""
	for len([]rune(text)) < 600 {
		text += "产自山东烟台的红富士苹果，果园海拔高，昼夜温差大，口感清甜脆爽。最佳食用期为收到后一周内，建议冷藏保存。"
	}
	in := compliance.Input{Context: compliance.CtxProduct}
	b.ReportAllocs()
	for b.Loop() {
		rs.Check(text, in)
	}
}

func merchantRules() *compliance.Ruleset {
	terms := []compliance.Term{{ID: 1, Term: "秒杀全网", Severity: compliance.Block}, {ID: 2, Term: "爆款", Severity: compliance.Warn}}
	ev := []compliance.Evidence{{Kind: compliance.EvTrademark, Term: "第一坊", Reference: "x"}}
	return compliance.Base().With("bench", terms, ev, time.Now())
}
