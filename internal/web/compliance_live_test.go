package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestLiveEditsCompliance: the go-live review is not the only gate. Once a
// room is live, what staff then change that viewers read — a new title,
// products added to the lineup, a product pinned from outside it, an edited
// text of a product a live room shows — is reviewed before it is stored:
// blocking findings answer 409 compliance_blocked with the review, the room
// and product stay as they were, and only an owner's explicit override
// (audited) lets it through. Edits that add no blocking text still pass.
func TestLiveEditsCompliance(t *testing.T) {
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	host := staffLogin(t, base, "host", "shelflive-demo")
	var admin struct {
		Token string `json:"token"`
	}
	send(t, nil, base, "POST", "/api/v1/auth/tokens", map[string]any{"role": "admin", "label": "live-edits-admin"}, owner, nil).decode(t, &admin)

	newProduct := func(name, desc, code string) int64 {
		t.Helper()
		var p struct {
			ID int64 `json:"id"`
		}
		r := send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": name, "description": desc,
			"skus": []map[string]any{{"code": code, "name": "500ml", "price_fen": 990}}}, owner, nil)
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r.decode(t, &p)
		return p.ID
	}
	clean := newProduct("芹菜汁", "现榨芹菜汁，冷藏保存", "QC-1")
	bad := newProduct("降压芹菜汁", "能治高血压，100%有效", "QC-2")
	var room struct {
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "veg-live", "title": "周末蔬菜直播", "product_ids": []int64{clean}}, owner, nil).decode(t, &room)
	if r := send(t, nil, base, "POST", "/api/v1/rooms/veg-live/status", map[string]any{"status": "live"}, host.Token, nil); r.Status != 200 {
		t.Fatalf("clean room did not go live: %d %s", r.Status, r.Body)
	}
	blockedOn := func(t *testing.T, r result, source string) {
		t.Helper()
		r.wantProblem(t, 409, "compliance_blocked")
		var p struct {
			Review struct {
				Blocking bool `json:"blocking"`
				Texts    []struct {
					Source   string        `json:"source"`
					Findings []findingView `json:"findings"`
				} `json:"texts"`
			} `json:"review"`
		}
		r.decode(t, &p)
		if !p.Review.Blocking || len(p.Review.Texts) == 0 || p.Review.Texts[0].Source != source || len(p.Review.Texts[0].Findings) == 0 {
			t.Fatalf("409 without the review of %s: %s", source, r.Body)
		}
	}

	t.Run("Title", func(t *testing.T) {
		bad := map[string]any{"title": "全网最低价 国家级 治疗糖尿病"}
		blockedOn(t, send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", bad, admin.Token, nil), "title")
		if got := publicTitle(t, base, "veg-live"); got != "周末蔬菜直播" {
			t.Fatalf("refused title stored: %q", got)
		}
		bad["override"] = map[string]any{"reason": "赶时间"}
		send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", bad, admin.Token, nil).wantProblem(t, 403, "compliance_override_forbidden") // an admin's role is no override
		send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", map[string]any{"title": "国家级好菜", "override": map[string]any{"reason": ""}}, owner, nil).wantProblem(t, 400, "override_reason_required")
		// A title without blocking findings is saved at once.
		if r := send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", map[string]any{"title": "周末蔬菜 · 晚场"}, admin.Token, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// The owner's override is stored and audited with the findings.
		if r := send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", map[string]any{"title": "国家级好菜", "override": map[string]any{"reason": "已获授权"}}, owner, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		wantAudit(t, base, "room.edit.override", "已获授权", "国家级")
		send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", map[string]any{"title": "周末蔬菜直播"}, owner, nil)
	})

	t.Run("Lineup", func(t *testing.T) {
		blockedOn(t, send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", map[string]any{"product_ids": []int64{clean, bad}}, admin.Token, nil), "product:"+itoa(bad)+".name")
		if ids := lineup(t, base, "veg-live"); len(ids) != 1 || ids[0] != clean {
			t.Fatalf("refused lineup stored: %v", ids)
		}
		// Changing other fields of the room leaves the lineup's texts alone.
		if r := send(t, nil, base, "PATCH", "/api/v1/rooms/veg-live", map[string]any{"host_name": "小林"}, admin.Token, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("Pin", func(t *testing.T) {
		blockedOn(t, send(t, nil, base, "POST", "/api/v1/rooms/veg-live/pin", map[string]any{"product_id": bad}, host.Token, nil), "product:"+itoa(bad)+".name")
		send(t, nil, base, "POST", "/api/v1/rooms/veg-live/pin", map[string]any{"product_id": bad, "override": map[string]any{"reason": "x"}}, host.Token, nil).wantProblem(t, 403, "compliance_override_forbidden")
		if r := send(t, nil, base, "POST", "/api/v1/rooms/veg-live/pin", map[string]any{"product_id": clean}, host.Token, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("ProductEdit", func(t *testing.T) {
		var full map[string]any
		send(t, nil, base, "GET", "/api/v1/products/"+itoa(clean), nil, owner, nil).decode(t, &full)
		edit := map[string]any{"name": full["name"], "description": "喝了能降血压，三天见效", "skus": full["skus"]}
		blockedOn(t, send(t, nil, base, "PUT", "/api/v1/products/"+itoa(clean), edit, owner, nil), "product:"+itoa(clean)+".description")
		var now map[string]any
		send(t, nil, base, "GET", "/api/v1/products/"+itoa(clean), nil, owner, nil).decode(t, &now)
		if now["description"] != "现榨芹菜汁，冷藏保存" {
			t.Fatalf("refused edit stored: %v", now["description"])
		}
		// The texts a shopper reads beyond the description are reviewed too.
		edit["description"] = full["description"]
		edit["specs"] = "0添加防腐剂 500ml"
		blockedOn(t, send(t, nil, base, "PUT", "/api/v1/products/"+itoa(clean), edit, owner, nil), "product:"+itoa(clean)+".specs")
		// An edit that adds nothing blocking goes through; a needs-evidence
		// claim is answered with its review, not refused.
		edit["specs"] = "500ml 玻璃瓶"
		edit["origin"] = "五常"
		if r := send(t, nil, base, "PUT", "/api/v1/products/"+itoa(clean), edit, owner, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// A product no live room shows is saved with its findings (the
		// go-live review stops it later), as before.
		var other map[string]any
		send(t, nil, base, "GET", "/api/v1/products/"+itoa(bad), nil, owner, nil).decode(t, &other)
		other["subtitle"] = "包治百病"
		delete(other, "id")
		delete(other, "created_at")
		delete(other, "updated_at")
		r := send(t, nil, base, "PUT", "/api/v1/products/"+itoa(bad), other, owner, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"blocking":true`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// The owner's override publishes a blocking edit and is audited.
		edit["description"] = "喝了能降血压"
		edit["override"] = map[string]any{"reason": "医嘱原文引用"}
		if r := send(t, nil, base, "PUT", "/api/v1/products/"+itoa(clean), edit, owner, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		wantAudit(t, base, "product.edit.override", "医嘱原文引用", "降血压")
	})

	t.Run("ProductType", func(t *testing.T) {
		// A health food may claim its approved function (with the approval on
		// file and the notice); the same words on an ordinary food block.
		var hf map[string]any
		r := send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "蜂胶软胶囊", "product_type": "health_food",
			"description": "增强免疫力。本品不能代替药物。", "skus": []map[string]any{{"code": "FJ-1", "name": "60粒", "price_fen": 12800}}}, owner, nil)
		if r.Status != 201 || strings.Contains(string(r.Body), `"blocking":true`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r.decode(t, &hf)
		if hf["product_type"] != "health_food" {
			t.Fatalf("type not stored: %s", r.Body)
		}
		id := int64(hf["id"].(float64))
		send(t, nil, base, "POST", "/api/v1/compliance/evidence", map[string]any{"kind": "health_food_approval", "product_id": id, "reference": "国食健注G20200001"}, owner, nil)
		send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "hf-live", "title": "保健食品专场", "product_ids": []int64{id}}, owner, nil)
		if r := send(t, nil, base, "POST", "/api/v1/rooms/hf-live/status", map[string]any{"status": "live"}, host.Token, nil); r.Status != 200 {
			t.Fatalf("health food room refused: %d %s", r.Status, r.Body)
		}
		// Turning it into ordinary food while it is shown re-reads every text.
		hf["product_type"] = "ordinary_food"
		for _, k := range []string{"id", "created_at", "updated_at", "compliance"} {
			delete(hf, k)
		}
		blockedOn(t, send(t, nil, base, "PUT", "/api/v1/products/"+itoa(id), hf, owner, nil), "product:"+itoa(id)+".description")
		send(t, nil, base, "PUT", "/api/v1/products/"+itoa(id), map[string]any{"name": "x", "product_type": "medicine", "skus": hf["skus"]}, owner, nil).wantProblem(t, 400, "invalid_product_type")
	})

	t.Run("ListPrice", func(t *testing.T) {
		// Sold at ¥59 a moment ago, now ¥39 with ¥69 struck through: the
		// history says ¥59, so the ¥69 list price is false and the room
		// cannot go live; ¥59 struck through is no lie, but the history does
		// not reach 7 days back, so it needs a price record (it does not block).
		var p map[string]any
		send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "土鸡蛋", "description": "散养土鸡蛋",
			"skus": []map[string]any{{"code": "EGG-30", "name": "30枚", "price_fen": 5900}}}, owner, nil).decode(t, &p)
		id := int64(p["id"].(float64))
		sku := p["skus"].([]any)[0].(map[string]any)
		sku["price_fen"], sku["list_price_fen"] = 3900, 6900
		for _, k := range []string{"id", "created_at", "updated_at", "compliance"} {
			delete(p, k)
		}
		r := send(t, nil, base, "PUT", "/api/v1/products/"+itoa(id), p, owner, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"rule":"price-false"`) || !strings.Contains(string(r.Body), "¥59.00") {
			t.Fatalf("save did not report the false list price: %d %s", r.Status, r.Body)
		}
		send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "egg-live", "title": "土鸡蛋专场", "product_ids": []int64{id}}, owner, nil)
		blockedOn(t, send(t, nil, base, "POST", "/api/v1/rooms/egg-live/status", map[string]any{"status": "live"}, host.Token, nil), "product:"+itoa(id)+".sku:EGG-30.list_price")

		sku["list_price_fen"] = 5900
		r = send(t, nil, base, "PUT", "/api/v1/products/"+itoa(id), p, owner, nil)
		if r.Status != 200 || strings.Contains(string(r.Body), `"blocking":true`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// The room's review lists it as needing a price record (a product
		// save does not: it would say so on every save).
		if r := send(t, nil, base, "GET", "/api/v1/rooms/egg-live/compliance", nil, owner, nil); !strings.Contains(string(r.Body), `"rule":"price-reference"`) {
			t.Fatalf("room review without the list price: %s", r.Body)
		}
		if r := send(t, nil, base, "POST", "/api/v1/rooms/egg-live/status", map[string]any{"status": "live"}, host.Token, nil); r.Status != 200 {
			t.Fatalf("a backed list price stopped the room: %d %s", r.Status, r.Body)
		}
		// Live, raising the list price above what it sold at is refused.
		sku["list_price_fen"] = 9900
		blockedOn(t, send(t, nil, base, "PUT", "/api/v1/products/"+itoa(id), p, owner, nil), "product:"+itoa(id)+".sku:EGG-30.list_price")

		// The host's live price tool passes the same rule. ¥59 struck through
		// over ¥29: the last 7 days sold at ¥59 and then ¥39, so ¥59 is not
		// the lowest earlier price and the cut is refused, the price unchanged.
		skuID := itoa(int64(sku["id"].(float64)))
		price := func() int64 {
			var got struct {
				SKUs []struct {
					PriceFen int64 `json:"price_fen"`
				} `json:"skus"`
			}
			send(t, nil, base, "GET", "/api/v1/products/"+itoa(id), nil, owner, nil).decode(t, &got)
			return got.SKUs[0].PriceFen
		}
		blockedOn(t, send(t, nil, base, "POST", "/api/v1/skus/"+skuID+"/price", map[string]any{"price_fen": 2900}, host.Token, nil), "product:"+itoa(id)+".sku:EGG-30.list_price")
		if got := price(); got != 3900 {
			t.Fatalf("a refused live price was stored: %d", got)
		}
		send(t, nil, base, "POST", "/api/v1/skus/"+skuID+"/price", map[string]any{"price_fen": 2900, "override": map[string]any{"reason": "x"}}, host.Token, nil).wantProblem(t, 403, "compliance_override_forbidden")
		// Above the list price there is no comparison to check.
		send(t, nil, base, "POST", "/api/v1/skus/"+skuID+"/price", map[string]any{"price_fen": 6000}, host.Token, nil).want(t, 200)
		send(t, nil, base, "POST", "/api/v1/skus/"+skuID+"/price", map[string]any{"price_fen": 3900}, host.Token, nil).wantProblem(t, 409, "compliance_blocked")
		send(t, nil, base, "POST", "/api/v1/skus/"+skuID+"/price", map[string]any{"price_fen": 2900, "override": map[string]any{"reason": "厂家清仓授权"}}, owner, nil).want(t, 200)
		if got := price(); got != 2900 {
			t.Fatalf("the owner's override did not store the price: %d", got)
		}
		wantAudit(t, base, "price.change.override", "厂家清仓授权", "EGG-30")
	})

	t.Run("PollAndDraw", func(t *testing.T) {
		// What a host puts on every screen besides the lineup is reviewed too.
		send(t, nil, base, "POST", "/api/v1/rooms/veg-live/polls", map[string]any{"question": "哪款最能降血糖？", "options": []string{"芹菜汁", "苦瓜汁"}}, host.Token, nil).wantProblem(t, 409, "compliance_blocked")
		send(t, nil, base, "POST", "/api/v1/rooms/veg-live/polls", map[string]any{"question": "下一款上什么？", "options": []string{"芹菜汁", "包治百病的苦瓜汁"}}, host.Token, nil).wantProblem(t, 409, "compliance_blocked")
		send(t, nil, base, "POST", "/api/v1/rooms/veg-live/polls", map[string]any{"question": "下一款上什么？", "options": []string{"芹菜汁", "苦瓜汁"}}, host.Token, nil).want(t, 201)
		var cp struct {
			ID int64 `json:"id"`
		}
		send(t, nil, base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "福袋券5元", "amount_fen": 500, "budget_count": 5}, owner, nil).want(t, 201).decode(t, &cp)
		draw := map[string]any{"title": "国家级福袋 全网最低价", "entry": "like", "winners": 1, "prize_kind": "coupon", "prize_coupon_id": cp.ID, "minutes": 5}
		send(t, nil, base, "POST", "/api/v1/rooms/veg-live/draws", draw, owner, nil).wantProblem(t, 409, "compliance_blocked")
		draw["title"] = "蔬菜福袋"
		send(t, nil, base, "POST", "/api/v1/rooms/veg-live/draws", draw, owner, nil).want(t, 201)
	})
}

func publicTitle(t *testing.T, base, slug string) string {
	t.Helper()
	var st struct {
		Room struct {
			Title string `json:"title"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/"+slug, nil, "", nil).decode(t, &st)
	return st.Room.Title
}

func lineup(t *testing.T, base, slug string) []int64 {
	t.Helper()
	var st struct {
		Room struct {
			ProductIDs []int64 `json:"product_ids"`
		} `json:"room"`
	}
	send(t, nil, base, "GET", "/api/v1/rooms/"+slug, nil, "", nil).decode(t, &st)
	return st.Room.ProductIDs
}

func wantAudit(t *testing.T, base, action string, contains ...string) {
	t.Helper()
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Detail string `json:"detail"`
		} `json:"entries"`
	}
	send(t, nil, base, "GET", "/api/v1/audit", nil, testkit.OwnerToken, nil).decode(t, &audit)
	for _, e := range audit.Entries {
		ok := e.Action == action
		for _, c := range contains {
			ok = ok && strings.Contains(e.Detail, c)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no %s audit entry with %v", action, contains)
}

// TestWrittenEarlierPrice: "原价59元" in a product's text is judged by the
// product's own price history, as a struck-through price is: sold at ¥39
// in the last 7 days, the ¥59 is false (blocks the room); a figure the
// history cannot settle, another seller's price (市场价) or a product with
// several SKUs still only need evidence.
func TestWrittenEarlierPrice(t *testing.T) {
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	var p map[string]any
	send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "阳山水蜜桃", "description": "当季鲜桃",
		"skus": []map[string]any{{"code": "PEACH-6", "name": "6个装", "price_fen": 5900}}}, owner, nil).want(t, 201).decode(t, &p)
	id := int64(p["id"].(float64))
	skuID := itoa(int64(p["skus"].([]any)[0].(map[string]any)["id"].(float64)))
	for _, fen := range []int64{3900, 2900} {
		send(t, nil, base, "POST", "/api/v1/skus/"+skuID+"/price", map[string]any{"price_fen": fen}, owner, nil).want(t, 200)
	}
	type review struct {
		Compliance struct {
			Blocking bool `json:"blocking"`
			Texts    []struct {
				Source   string `json:"source"`
				Findings []struct {
					Rule     string `json:"rule"`
					Severity string `json:"severity"`
				} `json:"findings"`
			} `json:"texts"`
		} `json:"compliance"`
	}
	save := func(desc string) (rule, severity string) {
		t.Helper()
		var r map[string]any
		send(t, nil, base, "GET", "/api/v1/products/"+itoa(id), nil, owner, nil).decode(t, &r)
		for _, k := range []string{"id", "created_at", "updated_at", "compliance"} {
			delete(r, k)
		}
		r["description"] = desc
		var rev review
		send(t, nil, base, "PUT", "/api/v1/products/"+itoa(id), r, owner, nil).want(t, 200).decode(t, &rev)
		for _, x := range rev.Compliance.Texts {
			if x.Source == "product:"+itoa(id)+".description" && len(x.Findings) > 0 {
				return x.Findings[0].Rule, x.Findings[0].Severity
			}
		}
		return "", ""
	}
	if rule, sev := save("原价59元，今天只要29"); rule != "price-false" || sev != "block" {
		t.Fatalf("¥59 after selling at ¥39 this week: %s %s, want price-false block", rule, sev)
	}
	if rule, sev := save("原价39元"); rule != "price-reference" || sev != "needs_evidence" {
		t.Fatalf("¥39, the lowest of a history shorter than 7 days: %s %s, want price-reference needs_evidence", rule, sev)
	}
	if rule, sev := save("市场价59元"); rule != "price-reference" || sev != "needs_evidence" {
		t.Fatalf("another seller's price: %s %s", rule, sev)
	}
	save("原价59元，今天只要29")
	send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "peach-live", "title": "水蜜桃专场", "product_ids": []int64{id}}, owner, nil).want(t, 201)
	r := send(t, nil, base, "POST", "/api/v1/rooms/peach-live/status", map[string]any{"status": "live"}, owner, nil)
	r.wantProblem(t, 409, "compliance_blocked")
	if !strings.Contains(string(r.Body), `"source":"product:`+itoa(id)+`.description"`) || !strings.Contains(string(r.Body), "price-false") {
		t.Fatalf("the go-live review does not name the written price: %s", r.Body)
	}

	// Two SKUs: the text does not say which one it means.
	var two map[string]any
	send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "水蜜桃礼盒", "description": "原价59元",
		"skus": []map[string]any{{"code": "PEACH-G6", "name": "6个装", "price_fen": 2900}, {"code": "PEACH-G12", "name": "12个装", "price_fen": 4900}}}, owner, nil).want(t, 201).decode(t, &two)
	if !strings.Contains(fmt.Sprint(two["compliance"]), "price-reference") || strings.Contains(fmt.Sprint(two["compliance"]), "price-false") {
		t.Fatalf("a two-SKU product's written price: %v", two["compliance"])
	}
}
