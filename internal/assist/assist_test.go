package assist_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/assist"
	"github.com/shelflive/shelflive/internal/assist/assisttest"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/llm"
)

func milk() []assist.Fact {
	p := &catalog.Product{ID: 7, Name: "鲜牛奶", Specs: "950ml", Ingredients: "生牛乳", Allergens: "含乳", Origin: "内蒙古呼伦贝尔", Storage: catalog.Chilled, ShelfDays: 7,
		SKUs: []catalog.SKU{{Name: "950ml", PriceFen: 1590, Active: true, Available: 40}}}
	lot := &assist.Lot{ID: 3, Code: "M1207", ProducedAt: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 12, 13, 2, 0, 0, 0, time.UTC), Origin: "额尔古纳牧场", Verdict: "held"}
	return assist.ProductFacts(p, lot, []assist.Store{{Name: "静安店", Hours: "08:00-22:00"}})
}

func TestAnswerCitesFacts(t *testing.T) {
	facts := milk()
	cases := []struct {
		q    string
		keys []string
		has  []string
	}{
		{"多少钱一瓶？", []string{"price"}, []string{"¥15.90"}},
		{"配料有什么", []string{"ingredients"}, []string{"生牛乳"}},
		{"乳糖不耐能喝吗，会过敏吗", []string{"allergens"}, []string{"含乳"}},
		{"保质期多久，哪天生产的", []string{"expires", "produced", "shelf_life"}, []string{"2026-12-13", "2026-12-06", "7天"}},
		{"奶是哪里产的", []string{"farm", "origin"}, []string{"额尔古纳牧场", "呼伦贝尔"}},
		{"路上冷链温度有保证吗", []string{"coldchain"}, []string{"全程冷链温度达标"}},
		{"可以到店自提吗", []string{"pickup"}, []string{"静安店"}},
		{"不新鲜可以退款吗", []string{"refund"}, []string{"门店取消后原路退回"}},
	}
	for _, c := range cases {
		s := assist.Answer(c.q, "鲜牛奶", facts)
		var got []string
		for _, f := range s.Cites {
			got = append(got, f.Key)
			if f.Source == "" {
				t.Errorf("%q: fact %s has no source", c.q, f.Key)
			}
		}
		for _, k := range c.keys {
			if !strings.Contains(strings.Join(got, ","), k) {
				t.Errorf("%q: cites %v, want %s", c.q, got, k)
			}
		}
		for _, h := range c.has {
			if !strings.Contains(s.Text, h) {
				t.Errorf("%q: %q lacks %q", c.q, s.Text, h)
			}
		}
	}
	if s := assist.Answer("有没有无糖的款", "鲜牛奶", []assist.Fact{}); len(s.Cites) != 0 || !strings.Contains(s.Text, "确认后") {
		t.Fatalf("no fact, no guess: %+v", s)
	}
}

// TestHealthQuestions: asked whether a food cures or lowers something, the
// assistant answers what the law allows — the kind of product, that it does
// not replace medicine, ask a doctor — with the ingredients, cites the
// product type, and the answer passes the review (a host can post it).
func TestHealthQuestions(t *testing.T) {
	rs := compliance.Base()
	for _, c := range []struct {
		typ, q, has string
	}{
		{catalog.OrdinaryFood, "能治糖尿病吗", "普通食品，不能代替药物"},
		{catalog.OrdinaryFood, "喝了能降血压吗？", "普通食品，不能代替药物"},
		{catalog.OrdinaryFood, "减肥期间吃有效果吗", "有健康方面的问题请咨询医生"},
		{catalog.HealthFood, "这个能提高免疫力吗", "本品不能代替药物"},
	} {
		p := &catalog.Product{ID: 9, Name: "苦荞茶", ProductType: c.typ, Ingredients: "苦荞麦", SKUs: []catalog.SKU{{Name: "250g", PriceFen: 2900, Active: true}}}
		s := assist.Answer(c.q, p.Name, assist.ProductFacts(p, nil, nil))
		if !strings.Contains(s.Text, c.has) || !strings.Contains(s.Text, "苦荞麦") {
			t.Errorf("%q (%s): %q", c.q, c.typ, s.Text)
		}
		if len(s.Cites) == 0 || s.Cites[0].Key != "product_type" || s.Cites[0].Source != "product:9.product_type" {
			t.Errorf("%q: cites %+v", c.q, s.Cites)
		}
		if res := rs.Check(s.Text, compliance.Input{Context: compliance.CtxComment, ProductType: compliance.ProductType(c.typ)}); res.Verdict != compliance.OK {
			t.Errorf("%q: answer %q fails the review: %+v", c.q, s.Text, res.Findings)
		}
	}
	// An ingredient question about sugar is still about the ingredients.
	p := &catalog.Product{ID: 9, Name: "苦荞茶", Ingredients: "苦荞麦", SKUs: []catalog.SKU{{Name: "250g", PriceFen: 2900, Active: true}}}
	if s := assist.Answer("有添加糖吗", p.Name, assist.ProductFacts(p, nil, nil)); strings.Contains(s.Text, "药物") || !strings.Contains(s.Text, "苦荞麦") {
		t.Errorf("sugar question: %q", s.Text)
	}
}

func TestTalkingPointsPassCompliance(t *testing.T) {
	points := assist.TalkingPoints("鲜牛奶", milk())
	if len(points) < 8 {
		t.Fatalf("%d points", len(points))
	}
	rs := compliance.Base()
	for _, p := range points {
		if len(p.Cites) == 0 {
			t.Errorf("point without a fact: %q", p.Text)
		}
		if res := rs.Check(p.Text, compliance.Input{Context: compliance.CtxScript}); res.Blocking() {
			t.Errorf("talking point breaks a rule: %q %+v", p.Text, res.Findings)
		}
	}
}

// TestSuggestWithLLM runs the model path against a fake OpenAI-compatible
// server over real HTTP: a grounded answer is used; a wrong key, an answer
// that cites nothing, invents a number or breaks the advertising law falls
// back to the template, saying why.
func TestSuggestWithLLM(t *testing.T) {
	fake := assisttest.StartFakeLLM(t, "sk-test")
	model := &llm.Client{URL: fake.BaseURL(), Key: "sk-test", Model: "fake-chat"}
	rs := compliance.Base()
	ctx := context.Background()
	facts := milk()

	s := assist.Suggest(ctx, model, rs, "多少钱？", "鲜牛奶", facts)
	if s.Source != "llm" || !strings.Contains(s.Text, "¥15.90") || strings.Contains(s.Text, "[") || len(s.Cites) != 1 || s.Cites[0].Key != "price" {
		t.Fatalf("%+v", s)
	}
	req := fake.Requests()[0]
	if !req.AuthOK || req.Model != "fake-chat" || !strings.Contains(req.System, "[编号]") || !strings.Contains(req.User, "观众问题：多少钱？") {
		t.Fatalf("request %+v", req)
	}

	for name, c := range map[string]struct {
		reply, key, want string
	}{
		"WrongKey":       {"", "sk-wrong", "401"},
		"NoCitation":     {"这款牛奶很好喝", "sk-test", "cites no fact"},
		"MissingFact":    {"价格是15.90元[42]", "sk-test", "does not exist"},
		"InventedNumber": {"今天只要9.9元[1]", "sk-test", "9.9"},
		"BreaksTheLaw":   {"喝了能降血压，全网最低价[1]", "sk-test", "model answer broke"},
	} {
		t.Run(name, func(t *testing.T) {
			reply := c.reply
			fake.Reply = func(string) string { return reply }
			defer func() { fake.Reply = nil }()
			m := &llm.Client{URL: fake.BaseURL(), Key: c.key, Model: "fake-chat"}
			s := assist.Suggest(ctx, m, rs, "多少钱？", "鲜牛奶", facts)
			if s.Source != "template" || !strings.Contains(s.Fallback, c.want) || !strings.Contains(s.Text, "¥15.90") {
				t.Fatalf("%+v", s)
			}
		})
	}
}
