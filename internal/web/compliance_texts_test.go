package web_test

import (
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/testkit"
)

// reviewView is the compliance review a save answers with.
type reviewView struct {
	Blocking bool `json:"blocking"`
	Texts    []struct {
		Source   string        `json:"source"`
		Verdict  string        `json:"verdict"`
		Findings []findingView `json:"findings"`
	} `json:"texts"`
}

func (r reviewView) sources() string {
	var s []string
	for _, t := range r.Texts {
		s = append(s, t.Source)
	}
	return strings.Join(s, ",")
}

// TestCouponTitleCompliance: a coupon's title is reviewed when it is
// written. It cannot be edited and reaches viewers when the card is
// pushed, so a blocking finding refuses the coupon (409
// compliance_blocked with the review) and creates nothing, unless an owner
// overrides with a reason (audited); findings that do not block come with
// the created coupon under "compliance", as a product save's do.
func TestCouponTitleCompliance(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	coupons := func() int {
		var list struct {
			Coupons []struct {
				Title string `json:"title"`
			} `json:"coupons"`
		}
		send(t, nil, s.base, "GET", "/api/v1/coupons", nil, owner, nil).want(t, 200).decode(t, &list)
		return len(list.Coupons)
	}
	before := coupons()
	coupon := func(title string, extra map[string]any) map[string]any {
		c := map[string]any{"kind": "fixed", "title": title, "room": "demo", "amount_fen": 500, "budget_count": 10}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}

	var refused struct {
		Code   string     `json:"code"`
		Review reviewView `json:"review"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/coupons", coupon("全网最低价 国家级好券", nil), owner, nil)
	r.wantProblem(t, 409, "compliance_blocked")
	r.decode(t, &refused)
	if !refused.Review.Blocking || refused.Review.sources() != "coupon.title" || len(refused.Review.Texts[0].Findings) == 0 {
		t.Fatalf("the 409 carries no review of the title: %s", r.Body)
	}
	if n := coupons(); n != before {
		t.Fatalf("a refused coupon was created (%d, was %d)", n, before)
	}
	host := staffLogin(t, s.base, "host", "shelflive-demo")
	send(t, nil, s.base, "POST", "/api/v1/coupons", coupon("全网最低价 国家级好券", map[string]any{"override": map[string]any{"reason": "活动需要"}}), host.Token, nil).
		wantProblem(t, 403, "compliance_override_forbidden")
	send(t, nil, s.base, "POST", "/api/v1/coupons", coupon("全网最低价 国家级好券", map[string]any{"override": map[string]any{"reason": " "}}), owner, nil).
		wantProblem(t, 400, "override_reason_required")
	if n := coupons(); n != before {
		t.Fatalf("a refused override created a coupon (%d, was %d)", n, before)
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons", coupon("全网最低价 国家级好券", map[string]any{"override": map[string]any{"reason": "法务已确认"}}), owner, nil).want(t, 201)
	wantAudit(t, s.base, "coupon.create.override", "法务已确认")

	// Findings that do not block come with the coupon.
	var made struct {
		ID         int64      `json:"id"`
		Title      string     `json:"title"`
		Compliance reviewView `json:"compliance"`
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons", coupon("有机蔬菜专享券", nil), owner, nil).want(t, 201).decode(t, &made)
	if made.ID == 0 || made.Compliance.Blocking || made.Compliance.sources() != "coupon.title" || made.Compliance.Texts[0].Verdict != "needs_evidence" {
		t.Fatalf("a needs-evidence title: %+v", made)
	}
	send(t, nil, s.base, "POST", "/api/v1/coupons", coupon("草莓节专享券", nil), owner, nil).want(t, 201).decode(t, &made)
	if made.Compliance.Blocking || len(made.Compliance.Texts) != 0 {
		t.Fatalf("a clean title: %+v", made)
	}
}

// TestProductTextsCompliance: a product's English name is reviewed with
// its other texts (the save's findings, the go-live gate), and the CSV
// import reviews what it creates, under the product_type column it reads
// (a bad value names its cell and creates nothing).
func TestProductTextsCompliance(t *testing.T) {
	s := newShop(t)
	owner := testkit.OwnerToken
	csvHdr := map[string]string{"Content-Type": "text/csv; charset=utf-8"}

	var prod struct {
		ID         int64      `json:"id"`
		Compliance reviewView `json:"compliance"`
	}
	send(t, nil, s.base, "POST", "/api/v1/products", map[string]any{"name": "草莓", "name_en": "Top 1 strawberries in China",
		"skus": []map[string]any{{"code": "EN-1", "name": "500g", "price_fen": 3900}}}, owner, nil).want(t, 201).decode(t, &prod)
	if !prod.Compliance.Blocking || prod.Compliance.sources() != "product:"+itoa(prod.ID)+".name_en" {
		t.Fatalf("the English name was not reviewed: %+v", prod.Compliance)
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms", map[string]any{"slug": "en-room", "title": "草莓直播", "product_ids": []int64{prod.ID}}, owner, nil).want(t, 201)
	var blocked struct {
		Review reviewView `json:"review"`
	}
	r := send(t, nil, s.base, "POST", "/api/v1/rooms/en-room/status", map[string]any{"status": "live"}, owner, nil)
	r.wantProblem(t, 409, "compliance_blocked")
	r.decode(t, &blocked)
	if !strings.Contains(blocked.Review.sources(), ".name_en") {
		t.Fatalf("go-live review without the English name: %s", r.Body)
	}

	count := func() int {
		var list struct {
			Products []struct{} `json:"products"`
		}
		send(t, nil, s.base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &list)
		return len(list.Products)
	}
	before := count()
	file := "商品,英文名,规格编码,规格,售价,商品类型,描述\n" +
		"深海鱼油,Fish oil,FO-60,60粒,99,保健食品,增强免疫力\n" +
		"桂花乌龙,Osmanthus oolong,OO-1,250ml,12,,降血压\n" +
		"保鲜袋,Food bags,BG-100,100只,9.9,none,\n"
	var out struct {
		Products []struct {
			ID          int64      `json:"id"`
			Name        string     `json:"name"`
			ProductType string     `json:"product_type"`
			Compliance  reviewView `json:"compliance"`
		} `json:"products"`
	}
	send(t, nil, s.base, "POST", "/api/v1/products/import", file, owner, csvHdr).want(t, 201).decode(t, &out)
	if len(out.Products) != 3 || count() != before+3 {
		t.Fatalf("import: %+v", out)
	}
	for i, want := range []string{"health_food", "ordinary_food", "none"} {
		if got := out.Products[i].ProductType; got != want {
			t.Errorf("%s: product_type %q, want %q", out.Products[i].Name, got, want)
		}
	}
	// 降血压 claimed by an ordinary food blocks (a finding, not a refusal).
	if oolong := out.Products[1]; !oolong.Compliance.Blocking || !strings.Contains(oolong.Compliance.sources(), ".description") {
		t.Fatalf("the import did not review the ordinary food's claim: %+v", oolong.Compliance)
	}
	if bags := out.Products[2]; bags.Compliance.Blocking {
		t.Fatalf("food bags: %+v", bags.Compliance)
	}
	var stored struct {
		ProductType string `json:"product_type"`
	}
	send(t, nil, s.base, "GET", "/api/v1/products/"+itoa(out.Products[0].ID), nil, owner, nil).decode(t, &stored)
	if stored.ProductType != "health_food" {
		t.Fatalf("stored product_type %q", stored.ProductType)
	}

	bad := "商品,规格编码,规格,售价,商品类型\n甲,A-1,1,1,普通食品\n乙,B-1,1,1,药品\n"
	p := send(t, nil, s.base, "POST", "/api/v1/products/import", bad, owner, csvHdr).wantProblem(t, 400, "invalid_product_type")
	if p.Field != "row 3: product_type" || count() != before+3 {
		t.Fatalf("bad product_type: field %q, products %d (want %d)", p.Field, count(), before+3)
	}
}
