// Package presale sells a product before it is made (以销定产): buyers
// commit with a deposit or the full price until a deadline; if the minimum
// order quantity (MOQ) is reached the supplier gets a production order and
// buyers a promised ship date, otherwise every payment goes back.
//
// The package holds the rules (validation, progress, the forfeit rule of
// deposits, the settlement verdict) and the Store contract; sqldb stores
// it, app runs the deadline on the leader and refunds through the
// payment provider.
package presale

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/order"
)

// Status of a pre-sale.
type Status string

const (
	Open    Status = "open"    // taking commitments until the deadline
	Reached Status = "reached" // MOQ reached at the deadline: produce
	Failed  Status = "failed"  // MOQ missed: every payment refunded
)

// Kind of a pre-sale order.
type Kind string

const (
	Full    Kind = "full"    // the whole price, paid at once
	Deposit Kind = "deposit" // 定金: counts toward the MOQ; the balance follows
	Balance Kind = "balance" // 尾款 of a deposit, payable once the MOQ is reached
)

// Presale is one campaign for one SKU.
type Presale struct {
	ID          int64  `json:"id"`
	MerchantID  int64  `json:"-"`
	Title       string `json:"title"`
	Description string `json:"description"`
	ProductID   int64  `json:"product_id"`
	SKUID       int64  `json:"sku_id"`
	ProductName string `json:"product_name"`
	// ProductNameEN: the product's English name, when it has one.
	ProductNameEN string `json:"product_name_en,omitempty"`
	SKUName       string `json:"sku_name"`
	// PriceFen is the whole price of one unit; DepositFen, when not 0, is
	// the part paid to commit (the rest is the balance).
	PriceFen   int64 `json:"price_fen"`
	DepositFen int64 `json:"deposit_fen"`
	MOQ        int64 `json:"moq"`
	// PerBuyerLimit caps one buyer's units (pending and paid).
	PerBuyerLimit int64     `json:"per_buyer_limit"`
	Deadline      time.Time `json:"deadline"`
	// BalanceDueAt is when unpaid balances forfeit their deposit (deposit
	// pre-sales only; after the deadline).
	BalanceDueAt *time.Time `json:"balance_due_at,omitempty"`
	// ShipBy is the promised ship date buyers see once the MOQ is reached.
	ShipBy   time.Time `json:"ship_by"`
	Supplier string    `json:"supplier"`
	RoomID   int64     `json:"room_id,omitempty"`
	// GroupID is the topic group whose page shows the progress (0: none).
	GroupID int64  `json:"group_id,omitempty"`
	Status  Status `json:"status"`
	// Committed is the units paid (deposit or full) now; after settlement
	// it is the units counted at the deadline.
	Committed int64      `json:"committed"`
	Buyers    int64      `json:"buyers"`
	Percent   int64      `json:"percent"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
	// Forfeited counts deposit units whose balance was not paid in time.
	Forfeited int64     `json:"forfeited"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Rule states, in Chinese and English, what happens to the money.
	Rule   string `json:"rule"`
	RuleEN string `json:"rule_en"`
}

// Errors, one variable per code.
var (
	ErrTitle        = apperr.InvalidField("title", "presale_title_invalid", "请填写预售标题（最多 60 字）", "Give the pre-sale a title (at most 60 characters).")
	ErrPrice        = apperr.InvalidField("price_fen", "presale_price_invalid", "价格须大于 0，定金须小于价格", "The price must be above 0 and the deposit below the price.")
	ErrMOQ          = apperr.InvalidField("moq", "presale_moq_invalid", "起订量须为 1 到 1000000", "The minimum order quantity must be 1 to 1,000,000.")
	ErrDeadline     = apperr.InvalidField("deadline", "presale_deadline_invalid", "截止时间须在未来 90 天内", "The deadline must be within the next 90 days.")
	ErrBalanceDue   = apperr.InvalidField("balance_due_at", "presale_balance_due_invalid", "定金预售须设置尾款截止时间，且晚于预售截止、早于发货日期", "A deposit pre-sale needs a balance due date after the deadline and before the ship date.")
	ErrShipBy       = apperr.InvalidField("ship_by", "presale_ship_by_invalid", "承诺发货日期须晚于截止时间（180 天内）", "The promised ship date must be after the deadline (within 180 days).")
	ErrLimit        = apperr.InvalidField("per_buyer_limit", "presale_limit_invalid", "每人限购须为 1 到 99", "The per-buyer limit must be 1 to 99.")
	ErrText         = apperr.InvalidField("description", "presale_text_too_long", "说明最多 1000 字，供应商最多 100 字", "The description is at most 1000 characters, the supplier 100.")
	ErrNoncompliant = apperr.New(apperr.Conflict, "presale_noncompliant", "预售标题或说明含有违规用语，请修改", "The title or description breaks advertising rules; change it.")
	ErrClosed       = apperr.New(apperr.Conflict, "presale_closed", "预售已截止", "This pre-sale is closed.")
	ErrOverLimit    = apperr.New(apperr.Conflict, "presale_limit_reached", "已达每人限购数量", "You reached the per-buyer limit of this pre-sale.")
	ErrNotReached   = apperr.New(apperr.Conflict, "presale_not_reached", "预售未达成起订量，没有生产单", "The pre-sale has not reached its minimum; there is no production order.")
	ErrSKURequired  = apperr.InvalidField("sku_id", "presale_sku_required", "请选择预售的商品规格", "Choose the SKU to pre-sell.")
	ErrNoBalance    = apperr.New(apperr.Conflict, "presale_no_balance", "没有待付尾款（未达成、已付清或已过尾款截止）", "There is no balance to pay (not reached, paid, or past the due date).")
)

// Validate checks a new pre-sale against now.
func (p *Presale) Validate(now time.Time) error {
	if p.SKUID <= 0 {
		return ErrSKURequired
	}
	return p.ValidateTerms(now)
}

// ValidateTerms checks everything but the SKU: a pre-sale whose SKU is
// created with it (a co-creation's winning combination) is checked
// before the SKU exists.
func (p *Presale) ValidateTerms(now time.Time) error {
	p.Title, p.Description, p.Supplier = strings.TrimSpace(p.Title), strings.TrimSpace(p.Description), strings.TrimSpace(p.Supplier)
	if p.Title == "" || len([]rune(p.Title)) > 60 {
		return ErrTitle
	}
	if len([]rune(p.Description)) > 1000 || len([]rune(p.Supplier)) > 100 {
		return ErrText
	}
	if p.PriceFen <= 0 || p.PriceFen > 100_000_00 || p.DepositFen < 0 || p.DepositFen >= p.PriceFen {
		return ErrPrice
	}
	if p.MOQ < 1 || p.MOQ > 1_000_000 {
		return ErrMOQ
	}
	if p.PerBuyerLimit == 0 {
		p.PerBuyerLimit = 10
	}
	if p.PerBuyerLimit < 1 || p.PerBuyerLimit > order.MaxQuantity {
		return ErrLimit
	}
	if !p.Deadline.After(now) || p.Deadline.After(now.Add(90*24*time.Hour)) {
		return ErrDeadline
	}
	if !p.ShipBy.After(p.Deadline) || p.ShipBy.After(p.Deadline.Add(180*24*time.Hour)) {
		return ErrShipBy
	}
	if p.DepositFen > 0 {
		if p.BalanceDueAt == nil || !p.BalanceDueAt.After(p.Deadline) || p.BalanceDueAt.After(p.ShipBy) {
			return ErrBalanceDue
		}
	} else {
		p.BalanceDueAt = nil
	}
	return nil
}

// Fill sets the derived fields (percent, the money rule) for showing.
func (p *Presale) Fill() {
	p.Percent = Percent(p.Committed, p.MOQ)
	p.Rule, p.RuleEN = p.MoneyRule()
}

// Percent is committed/moq in whole percent, rounded down (so 100 means
// reached), and may exceed 100.
func Percent(committed, moq int64) int64 {
	if moq <= 0 {
		return 0
	}
	return committed * 100 / moq
}

// Verdict is the settlement rule: reached when the units paid at the
// deadline are at least the MOQ.
func Verdict(committed, moq int64) Status {
	if committed >= moq {
		return Reached
	}
	return Failed
}

// UnitFen is what one unit of an order of kind k costs.
func (p *Presale) UnitFen(k Kind) int64 {
	switch k {
	case Deposit:
		return p.DepositFen
	case Balance:
		return p.PriceFen - p.DepositFen
	}
	return p.PriceFen
}

// CommitKind is the kind of order a buyer places to commit.
func (p *Presale) CommitKind() Kind {
	if p.DepositFen > 0 {
		return Deposit
	}
	return Full
}

func day(t time.Time) string { return t.In(cn.Shanghai).Format("2006-01-02 15:04") }

// MoneyRule states, in Chinese and English, what happens to the buyer's
// money: the refund when the MOQ is missed, and the deposit's forfeit rule.
func (p *Presale) MoneyRule() (string, string) {
	zh := fmt.Sprintf("%s 截止时达到 %d 件即生产，%s 前发货；未达成则全部款项原路自动退回。", day(p.Deadline), p.MOQ, p.ShipBy.In(cn.Shanghai).Format("2006-01-02"))
	en := fmt.Sprintf("Made if %d units are committed by %s (Beijing time), shipped by %s; otherwise every payment is refunded automatically to where it came from.", p.MOQ, day(p.Deadline), p.ShipBy.In(cn.Shanghai).Format("2006-01-02"))
	if p.DepositFen > 0 && p.BalanceDueAt != nil {
		zh += fmt.Sprintf("定金 ¥%s/件，达成后须在 %s 前支付尾款 ¥%s/件；逾期未付尾款，定金不退、不发货。", yuan(p.DepositFen), day(*p.BalanceDueAt), yuan(p.PriceFen-p.DepositFen))
		en += fmt.Sprintf(" Deposit ¥%s per unit; once made, the balance of ¥%s per unit is due by %s; an unpaid balance forfeits the deposit and nothing ships.", yuan(p.DepositFen), yuan(p.PriceFen-p.DepositFen), day(*p.BalanceDueAt))
	}
	return zh, en
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// Filter selects pre-sales in lists.
type Filter struct {
	Status  Status
	RoomID  int64
	GroupID int64
	Limit   int
}

// Commitment is one buyer's pre-sale order (deposit or full) and, for a
// deposit, its balance.
type Commitment struct {
	PresaleID      int64      `json:"presale_id"`
	OrderID        int64      `json:"order_id"`
	Kind           Kind       `json:"kind"`
	Quantity       int64      `json:"quantity"`
	OrderStatus    string     `json:"order_status"`
	BalanceOrderID int64      `json:"balance_order_id,omitempty"`
	BalanceStatus  string     `json:"balance_status,omitempty"`
	BalanceFen     int64      `json:"balance_fen,omitempty"`
	ForfeitedAt    *time.Time `json:"forfeited_at,omitempty"`
}

// ProductionLine is one destination of a production order: a pickup store,
// or delivery (StoreID of the shipping store).
type ProductionLine struct {
	Fulfilment order.Fulfilment `json:"fulfilment"`
	StoreID    int64            `json:"store_id"`
	StoreName  string           `json:"store_name"`
	Orders     int64            `json:"orders"`
	Units      int64            `json:"units"`
}

// Production is the order the supplier gets when the MOQ is reached.
type Production struct {
	Presale Presale          `json:"presale"`
	Units   int64            `json:"units"`
	Lines   []ProductionLine `json:"lines"`
}

// Ref names a pre-sale of a merchant (for the leader's jobs).
type Ref struct{ MerchantID, ID int64 }

// Store keeps pre-sales and their orders. Every method scopes by merchant.
type Store interface {
	// CreatePresale checks the SKU (the merchant's, active) and stores p open.
	// Errors: unknown_sku.
	CreatePresale(ctx context.Context, p *Presale) error
	// Presale returns one pre-sale with its live counts. Errors: not_found.
	Presale(ctx context.Context, merchantID, id int64) (*Presale, error)
	Presales(ctx context.Context, merchantID int64, f Filter) ([]Presale, error)
	// PublicPresale finds a pre-sale by its id alone, for its public page
	// (the id is in shared links). Errors: not_found.
	PublicPresale(ctx context.Context, id int64) (*Presale, error)
	// Commit places a buyer's deposit or full order for qty units: no stock
	// is reserved (the goods are not made yet); the order is payable until
	// the deadline at the latest. A retried Idempotency-Key returns the
	// first order. Errors: presale_closed, presale_limit_reached,
	// unknown_sku, idempotency_key_reused.
	Commit(ctx context.Context, p *Presale, o *order.Order, qty int64) (created bool, err error)
	// BalanceOrder returns the pending balance order of a paid deposit
	// order of the buyer, creating it when there is none. Errors:
	// presale_no_balance, not_found.
	BalanceOrder(ctx context.Context, p *Presale, depositOrderID int64, o *order.Order) (*order.Order, error)
	// Commitments lists a buyer's orders in a pre-sale.
	Commitments(ctx context.Context, merchantID, presaleID, customerID int64) ([]Commitment, error)
	// OfOrder says which pre-sale an order belongs to (0: none).
	OfOrder(ctx context.Context, merchantID, orderID int64) (int64, error)

	// DueSettle lists open pre-sales whose deadline passed.
	DueSettle(ctx context.Context, now time.Time, limit int) ([]Ref, error)
	// Settle decides an open pre-sale whose deadline passed, once: unpaid
	// orders expire, the paid units are counted, the status becomes reached
	// or failed. changed is false when it was already decided.
	Settle(ctx context.Context, merchantID, id int64) (p *Presale, changed bool, err error)
	// RefundDue lists failed pre-sales that still have paid orders.
	RefundDue(ctx context.Context, limit int) ([]Ref, error)
	// CancelPaid cancels up to limit paid orders of a failed pre-sale, each
	// in its own transaction with its refund recorded (the order's status
	// is the guard: a cancelled order is never refunded twice).
	CancelPaid(ctx context.Context, merchantID, id int64, limit int) ([]order.Order, error)
	// ForfeitDue applies the deposit rule of reached pre-sales whose balance
	// due date passed: deposits without a paid balance are forfeited and
	// their unpaid balance orders expire. It returns the expired orders.
	ForfeitDue(ctx context.Context, now time.Time, limit int) ([]order.Order, error)
	// Unnotified lists decided pre-sales whose webhook is not queued yet;
	// MarkNotified records that it is.
	Unnotified(ctx context.Context, limit int) ([]Ref, error)
	MarkNotified(ctx context.Context, merchantID, id int64) error
	// Production is the production order of a reached pre-sale. Errors:
	// presale_not_reached.
	Production(ctx context.Context, merchantID, id int64) (*Production, error)
}

// Table is one table of an export (a CSV section, an XLSX sheet).
type Table struct {
	Name string
	Rows [][]string
}

// Tables is the production order as the supplier reads it: what to make,
// by when, and how many units go to each store or to delivery.
func (pr *Production) Tables() []Table {
	p := &pr.Presale
	when := func(t time.Time) string { return t.In(cn.Shanghai).Format("2006-01-02 15:04") }
	head := Table{Name: "生产单 Production order", Rows: [][]string{
		{"项目 Field", "内容 Value"},
		{"预售编号 Pre-sale no.", fmt.Sprint(p.ID)},
		{"预售 Pre-sale", p.Title},
		{"商品 Product", p.ProductName},
		{"规格 SKU", p.SKUName},
		{"SKU ID", fmt.Sprint(p.SKUID)},
		{"生产数量 Units to make", fmt.Sprint(pr.Units)},
		{"起订量 MOQ", fmt.Sprint(p.MOQ)},
		{"截止时付款件数 Units paid at the deadline", fmt.Sprint(p.Committed)},
		{"定金未付尾款件数 Deposits forfeited", fmt.Sprint(p.Forfeited)},
		{"供应商 Supplier", p.Supplier},
		{"预售截止 Deadline (Beijing)", when(p.Deadline)},
		{"承诺发货 Ship by", p.ShipBy.In(cn.Shanghai).Format("2006-01-02")},
	}}
	dest := Table{Name: "按去向 By destination", Rows: [][]string{{"方式 Fulfilment", "门店 Store", "门店编号 Store ID", "订单 Orders", "件数 Units"}}}
	for _, l := range pr.Lines {
		how := "自提 pickup"
		if l.Fulfilment == order.Delivery {
			how = "配送 delivery"
		}
		dest.Rows = append(dest.Rows, []string{how, l.StoreName, fmt.Sprint(l.StoreID), fmt.Sprint(l.Orders), fmt.Sprint(l.Units)})
	}
	return []Table{head, dest}
}
