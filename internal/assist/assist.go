// Package assist is the host's assistant in the studio: suggested answers to
// viewers' questions that cite the merchant's own facts (price, specs,
// ingredients, allergens, origin, storage; the lot on sale with its dates
// and cold-chain verdict; pickup and refund), talking points per product,
// and the comments' sentiment over time. It works offline — retrieval over
// the facts plus templates — and, when an OpenAI-compatible model is
// configured, asks it for a friendlier wording that must still cite the
// facts and pass the compliance review before it is shown (llm.go).
package assist

import (
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/compliance"
)

// Fact is one thing the merchant's data says, with where it comes from;
// answers cite facts, never invent them.
type Fact struct {
	Key    string `json:"key"`    // price, specs, ingredients, allergens, origin, storage, shelf_life, lot, expires, coldchain, pickup, refund, stock
	Label  string `json:"label"`  // 价格
	Value  string `json:"value"`  // ¥29.90 / 500g
	Source string `json:"source"` // product:12.price, lot:7, coldchain:lot:7, stores, policy
}

// Lot is the lot a buyer would get now (first to expire, not on hold).
type Lot struct {
	ID         int64
	Code       string
	ProducedAt time.Time
	ExpiresAt  time.Time
	Origin     string // farm or origin recorded on the lot
	Verdict    string // cold-chain verdict: held, broken, gaps, no_data, on_hold, released; "" = unknown
}

// Store is a pickup store as the assistant tells it.
type Store struct {
	Name  string
	Hours string
}

// ProductFacts gathers the facts about one product.
func ProductFacts(p *catalog.Product, lot *Lot, stores []Store) []Fact {
	src := fmt.Sprintf("product:%d.", p.ID)
	var fs []Fact
	add := func(key, label, value, source string) {
		if v := strings.TrimSpace(value); v != "" {
			fs = append(fs, Fact{Key: key, Label: label, Value: v, Source: source})
		}
	}
	var prices []string
	available := int64(0)
	for _, k := range p.SKUs {
		if !k.Active {
			continue
		}
		prices = append(prices, fmt.Sprintf("%s ¥%.2f", k.Name, float64(k.PriceFen)/100))
		available += k.Available
	}
	add("product_type", "食品类别", productTypeText(p.ProductType), src+"product_type")
	add("price", "价格", strings.Join(prices, "，"), src+"skus")
	add("specs", "规格", p.Specs, src+"specs")
	add("ingredients", "配料", p.Ingredients, src+"ingredients")
	add("allergens", "过敏原", p.Allergens, src+"allergens")
	add("origin", "产地", p.Origin, src+"origin")
	add("storage", "储存", storageText(p.Storage), src+"storage")
	if p.ShelfDays > 0 {
		add("shelf_life", "保质期", fmt.Sprintf("%d天", p.ShelfDays), src+"shelf_days")
	}
	add("stock", "库存", fmt.Sprintf("%d件", available), src+"skus.available")
	if lot != nil {
		ls := fmt.Sprintf("lot:%d", lot.ID)
		add("lot", "批次", lot.Code, ls)
		if lot.Origin != "" {
			add("farm", "产地（批次）", lot.Origin, ls+".origin")
		}
		if !lot.ProducedAt.IsZero() {
			add("produced", "生产日期", lot.ProducedAt.In(cn.Shanghai).Format("2006-01-02"), ls+".produced_at")
		}
		if !lot.ExpiresAt.IsZero() {
			add("expires", "到期日期", lot.ExpiresAt.In(cn.Shanghai).Format("2006-01-02"), ls+".expires_at")
		}
		add("coldchain", "冷链", verdictText(lot.Verdict), "coldchain:"+ls)
	}
	if len(stores) > 0 {
		var names []string
		for _, s := range stores {
			n := s.Name
			if s.Hours != "" {
				n += "（" + s.Hours + "）"
			}
			names = append(names, n)
		}
		add("pickup", "自提门店", strings.Join(names, "、"), "stores")
	}
	add("refund", "退款", RefundPolicy, "policy")
	return fs
}

// RefundPolicy says what ShelfLive does: a buyer cancels an unpaid order
// alone; a paid one is cancelled and refunded by the store.
const RefundPolicy = "付款前可在订单页自行取消；付款后需要退款请联系门店，门店取消后原路退回"

func productTypeText(t string) string {
	switch t {
	case catalog.HealthFood:
		return "保健食品"
	case catalog.NotFood:
		return "非食品"
	}
	return "普通食品"
}

// healthLine answers a question about curing or health effects the only
// way the law allows (广告法 §17, 食品安全法 §73): what kind of product it
// is, that it does not replace medicine, and to ask a doctor. It names no
// disease and no effect, so it passes the review it is checked against.
func healthLine(subject, kind string) string {
	switch kind {
	case "保健食品":
		return subject + "是保健食品，本品不能代替药物，请按标签上的适宜人群食用；有健康方面的问题请咨询医生"
	case "非食品":
		return subject + "不是食品，不能代替药物"
	}
	return subject + "是普通食品，不能代替药物，我们不宣传任何保健功能；有健康方面的问题请咨询医生"
}

func storageText(s catalog.StorageClass) string {
	switch s {
	case catalog.Chilled:
		return "冷藏 0–4℃"
	case catalog.Frozen:
		return "冷冻 −18℃以下"
	case catalog.Ambient:
		return "常温，阴凉干燥处"
	}
	return ""
}

func verdictText(v string) string {
	switch v {
	case "held":
		return "全程冷链温度达标"
	case "released":
		return "运输中曾有温度偏离，经品控复核放行"
	case "gaps":
		return "测到的温度都达标，部分时段缺少数据"
	case "no_data":
		return "暂无温度记录"
	case "on_hold", "broken":
		return "冷链复核中，暂停销售"
	}
	return ""
}

// topics maps words of a question to the facts that answer it, most
// specific first. A question can touch several ("多少钱，什么时候过期").
var topics = []struct {
	keys  []string
	words []string
}{
	// health effects first: "能降血糖吗" is not a question about 糖 as an ingredient
	{[]string{"product_type", "ingredients"}, []string{"治", "疗效", "功效", "降血", "降压", "降糖", "血糖", "血压", "血脂", "三高", "减肥", "减脂", "吃药", "药", "病", "免疫", "保健", "养生", "调理", "抗癌", "排毒", "有效果"}},
	{[]string{"allergens"}, []string{"过敏", "麸质", "花生", "坚果过敏", "海鲜过敏", "乳糖"}},
	{[]string{"ingredients"}, []string{"配料", "成分", "添加", "防腐剂", "糖", "原料", "含有", "做的"}},
	{[]string{"price"}, []string{"多少钱", "价格", "几块", "几元", "价钱", "贵", "便宜", "优惠", "划算", "怎么卖"}},
	{[]string{"coldchain"}, []string{"冷链", "温度", "化了", "化冻", "新鲜吗", "路上"}},
	{[]string{"expires", "produced", "shelf_life"}, []string{"保质期", "过期", "日期", "生产", "新鲜", "放多久", "能放", "几天"}},
	{[]string{"storage"}, []string{"保存", "冷藏", "冷冻", "储存", "存放", "放冰箱"}},
	{[]string{"farm", "origin"}, []string{"产地", "哪里", "哪儿", "哪产", "来自", "原产", "果园", "农场", "基地"}},
	{[]string{"specs"}, []string{"规格", "多大", "多重", "几斤", "克", "斤", "个头", "尺寸", "份量", "分量", "几个"}},
	{[]string{"stock"}, []string{"还有货", "有货", "库存", "没货", "抢完", "还有吗", "补货"}},
	{[]string{"pickup"}, []string{"自提", "取货", "门店", "到店", "提货", "配送", "送货", "快递", "发货", "邮"}},
	{[]string{"refund"}, []string{"退款", "退货", "售后", "坏了", "不新鲜", "取消"}},
}

// Topics lists the fact keys a question asks about ("" question → none).
func Topics(question string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range topics {
		for _, w := range t.words {
			if strings.Contains(question, w) {
				for _, k := range t.keys {
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
				}
				break
			}
		}
	}
	return out
}

// Suggestion is a proposed answer: the text to say or post, the facts it
// cites, where the wording comes from, and its compliance review.
type Suggestion struct {
	Text       string            `json:"text"`
	Cites      []Fact            `json:"cites"`
	Source     string            `json:"source"`             // template | llm
	Fallback   string            `json:"fallback,omitempty"` // why a configured model's answer was not used
	Compliance compliance.Result `json:"compliance"`
}

// Answer builds the offline answer: the facts the question asks about, in
// one sentence each. Without a matching fact it says so instead of guessing.
func Answer(question, productName string, facts []Fact) Suggestion {
	keys := Topics(question)
	byKey := map[string]Fact{}
	for _, f := range facts {
		byKey[f.Key] = f
	}
	var parts []string
	var cites []Fact
	for _, k := range keys {
		f, ok := byKey[k]
		if !ok {
			continue
		}
		cites = append(cites, f)
		if k == "product_type" {
			name := productName
			if name == "" {
				name = "这款"
			}
			parts = append(parts, healthLine(name, f.Value))
			continue
		}
		parts = append(parts, f.Label+"："+f.Value)
	}
	subject := ""
	if productName != "" {
		subject = productName + "的"
	}
	if len(cites) > 0 && cites[0].Key == "product_type" {
		subject = "" // the health line names the product itself
	}
	var text string
	switch {
	case len(parts) > 0:
		text = subject + strings.Join(parts, "；") + "。"
	case len(keys) > 0:
		text = "这个信息商品资料里还没有，我们确认后马上回复您。"
	default:
		text = "感谢提问！主播马上为您解答。"
	}
	return Suggestion{Text: text, Cites: nonNil(cites), Source: "template"}
}

// Point is one talking point with the facts behind it.
type Point struct {
	Text  string `json:"text"`
	Cites []Fact `json:"cites"`
}

// TalkingPoints turns a product's facts into what the host can say about
// it, in the order shoppers care: where it is from, how fresh, how it was
// kept, what is in it, how to store it, what it costs, where to pick up.
func TalkingPoints(productName string, facts []Fact) []Point {
	byKey := map[string]Fact{}
	for _, f := range facts {
		byKey[f.Key] = f
	}
	say := func(format string, keys ...string) *Point {
		var vals []any
		var cites []Fact
		for _, k := range keys {
			f, ok := byKey[k]
			if !ok {
				return nil
			}
			vals = append(vals, f.Value)
			cites = append(cites, f)
		}
		return &Point{Text: fmt.Sprintf(format, vals...), Cites: cites}
	}
	var out []Point
	for _, p := range []*Point{
		say("产地："+productName+"来自%s。", "origin"),
		farmPoint(byKey, say),
		say("这批生产于%s，到期日%s，下单就是这一批。", "produced", "expires"),
		coldPoint(byKey, say),
		say("配料：%s。", "ingredients"),
		say("过敏原提示：%s。", "allergens"),
		say("储存：%s，保质期%s。", "storage", "shelf_life"),
		say("规格：%s。", "specs"),
		say("直播间价格：%s。", "price"),
		say("可以到%s自提。", "pickup"),
	} {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// farmPoint names the lot's farm only when it says more than the product's origin.
func farmPoint(byKey map[string]Fact, say func(string, ...string) *Point) *Point {
	if f, ok := byKey["farm"]; !ok || f.Value == byKey["origin"].Value {
		return nil
	}
	return say("这一批次来自%s。", "farm")
}

// coldPoint points viewers to the temperature chart only when there is one.
func coldPoint(byKey map[string]Fact, say func(string, ...string) *Point) *Point {
	f, ok := byKey["coldchain"]
	switch {
	case !ok || f.Value == verdictText("no_data"):
		return nil
	case f.Value == verdictText("held") || f.Value == verdictText("released"):
		return say("冷链记录：%s，观众可以点“溯源”查看温度曲线。", "coldchain")
	}
	return say("冷链记录：%s。", "coldchain")
}

func nonNil(fs []Fact) []Fact {
	if fs == nil {
		return []Fact{}
	}
	return fs
}

// TrendPoint is the comments' sentiment in one minute.
type TrendPoint struct {
	Minute time.Time `json:"minute"`
	Pos    int       `json:"pos"`
	Neg    int       `json:"neg"`
	Neu    int       `json:"neu"`
}

// Errors of the suggest API.
var (
	ErrQuestion = apperr.InvalidField("question", "invalid_question", "问题必填，最多200字", "question is required, at most 200 characters.")
	ErrProduct  = catalog.ErrUnknownProduct.With("商品不在本场直播中", "The product is not in this room's lineup.")
)
