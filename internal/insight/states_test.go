package insight_test

import (
	"testing"

	"github.com/shelflive/shelflive/internal/insight"
)

// TestComplaintsWithoutComplaintWord: complaints told as a state, a degree
// past bearing, less than shown or promised, a wait, are complaints — by
// the state rules alone and by the classifier; the same topics asked about
// or told as fine are not.
func TestComplaintsWithoutComplaintWord(t *testing.T) {
	cat, byKey, _ := evalCatalog(t)
	s := loadedSegmenter(t)
	ix := insight.BuildIndex(s, cat)
	for _, c := range []struct{ pinned, text string }{
		{"抹茶生巧", "上次买的有点化了"}, {"牛奶", "收到的时候都不冰了"}, {"大闸蟹", "分量比图上少"}, {"橙汁", "酸得没法喝"},
		{"大闸蟹", "说好的四两 称了才三两出头"}, {"抹茶生巧", "盒子里少了两块"}, {"牛奶", "才开两天就结块了"}, {"-", "等了一周还在路上"},
		{"黑糖生巧", "上次买的怎么都化成水了？"},
	} {
		if !insight.BadState(c.text) {
			t.Errorf("%q: the state rules miss it", c.text)
		}
		if r := ix.Classify(s, c.text, byKey[c.pinned]); r.Intent != insight.Complaint || r.Sentiment != insight.Neg {
			t.Errorf("%q: %s/%s, want complaint/neg", c.text, r.Intent, r.Sentiment)
		}
	}
	for _, c := range []struct {
		pinned, text string
		want         insight.Intent
	}{
		{"抹茶生巧", "夏天寄会不会化", insight.AskShipping}, {"大闸蟹", "分量足吗", insight.AskStockSize},
		{"牛奶", "收到的时候还是冰的 很放心", insight.Praise}, {"鸡蛋", "收到一个没碎 包装真用心", insight.Praise},
		{"车厘子", "颜色深得发黑 好评", insight.Praise},
	} {
		if insight.BadState(c.text) {
			t.Errorf("%q: read as a complaint by the state rules", c.text)
		}
		if r := ix.Classify(s, c.text, byKey[c.pinned]); r.Intent != c.want {
			t.Errorf("%q: %s, want %s", c.text, r.Intent, c.want)
		}
	}
}
