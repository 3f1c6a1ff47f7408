package sqldb_test

// The storage contract suite: every test runs against SQLite and, when
// SHELFLIVE_TEST_POSTGRES is set, against PostgreSQL, through the same
// store types the domains use. A behaviour that differs between the two
// databases is a bug in the adapter.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// shop is a merchant with a pickup store, a delivery store, one product
// with one SKU (12.80 yuan) and a customer; other is a second tenant with
// its own store, product and customer, for scoping checks.
type shop struct {
	db      *sqldb.DB
	ids     *sqldb.IdentityStore
	cat     *sqldb.CatalogStore
	repo    *sqldb.StoreRepo
	inv     *sqldb.InventoryStore
	live    *sqldb.LiveStore
	orders  *sqldb.OrderStore
	m       int64 // merchant
	store   int64 // pickup store
	shipper int64 // delivery store
	product int64
	sku     int64
	cust    int64

	other      int64 // second merchant
	otherStore int64
	otherSKU   int64
	otherCust  int64
}

const price = 1280

func newShop(t testing.TB, db *sqldb.DB) *shop {
	t.Helper()
	ctx := context.Background()
	s := &shop{db: db, ids: &sqldb.IdentityStore{DB: db}, cat: &sqldb.CatalogStore{DB: db}, repo: &sqldb.StoreRepo{DB: db},
		inv: &sqldb.InventoryStore{DB: db}, live: &sqldb.LiveStore{DB: db}, orders: &sqldb.OrderStore{DB: db}}
	mk := func(slug string) (m, store, sku, cust int64) {
		mer := &identity.Merchant{Slug: slug, Name: "商户 " + slug, NameEN: "Shop " + slug}
		must(t, s.ids.CreateMerchant(ctx, mer))
		st := &stores.Store{MerchantID: mer.ID, Name: "徐汇店", Address: "上海市徐汇区 1 号", Lat: 31.19, Lng: 121.43}
		must(t, s.repo.CreateStore(ctx, st))
		p := &catalog.Product{MerchantID: mer.ID, Name: "草莓 Strawberries", NameEN: "Strawberries", Storage: catalog.Chilled, Active: true,
			SKUs: []catalog.SKU{{Code: slug + "-500", Name: "500g", NameEN: "500g punnet", PriceFen: price, ListPriceFen: 1580, Active: true}}}
		must(t, s.cat.CreateProduct(ctx, p))
		c, err := s.ids.UpsertCustomer(ctx, mer.ID, "13800000000")
		must(t, err)
		if slug == "farm" {
			s.product = p.ID
		}
		return mer.ID, st.ID, p.SKUs[0].ID, c.ID
	}
	s.m, s.store, s.sku, s.cust = mk("farm")
	s.other, s.otherStore, s.otherSKU, s.otherCust = mk("rival")
	ship := &stores.Store{MerchantID: s.m, Name: "仓库", Address: "上海市闵行区 2 号", Lat: 31.1, Lng: 121.4, Delivery: true}
	must(t, s.repo.CreateStore(ctx, ship))
	s.shipper = ship.ID
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err carries the application error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("want error code %q, got %v", code, err)
	}
}

// lot creates a lot of sku expiring after d and puts onHand units in store.
func (s *shop) lot(t testing.TB, merchant, sku, store int64, code string, d time.Duration, onHand int64) int64 {
	t.Helper()
	ctx := context.Background()
	now := s.db.Now()
	l := &inventory.Lot{MerchantID: merchant, SKUID: sku, Code: code, ProducedAt: now.Add(-24 * time.Hour), ExpiresAt: now.Add(d), Origin: "崇明"}
	must(t, s.inv.CreateLot(ctx, l))
	must(t, s.inv.SetStock(ctx, merchant, store, l.ID, onHand))
	return l.ID
}

// level returns the stock of one lot in one store.
func (s *shop) level(t testing.TB, store, lot int64) inventory.Level {
	t.Helper()
	levels, err := s.inv.Levels(context.Background(), s.m, s.sku)
	must(t, err)
	for _, lv := range levels {
		if lv.StoreID == store && lv.LotID == lot {
			return lv
		}
	}
	t.Fatalf("no stock row for store %d lot %d", store, lot)
	return inventory.Level{}
}

// newOrder is a pickup order of the shop's customer, reservation 15 minutes.
func (s *shop) newOrder(key, hash string) *order.Order {
	return &order.Order{MerchantID: s.m, CustomerID: s.cust, Fulfilment: order.Pickup, StoreID: s.store, ContactPhone: "13812345678",
		ReserveExpiresAt: s.db.Now().Add(15 * time.Minute), IdempotencyKey: key, RequestHash: hash}
}

func (s *shop) buy(t testing.TB, qty int64) *order.Order {
	t.Helper()
	return s.buyFor(t, qty, order.Pickup)
}

// buyFor places an order to be picked up or delivered.
func (s *shop) buyFor(t testing.TB, qty int64, f order.Fulfilment) *order.Order {
	t.Helper()
	o := s.newOrder("", "")
	if f == order.Delivery {
		o.Fulfilment, o.ContactName, o.Address = order.Delivery, "张三", "上海市 1 号"
	}
	created, err := s.orders.Create(context.Background(), o, []order.Item{{SKUID: s.sku, Quantity: qty}})
	must(t, err)
	if !created || o.ID == 0 {
		t.Fatalf("order not created: %+v", o)
	}
	return o
}

// move moves an order on; a pickup order is completed as at the counter,
// with the buyer's code checked.
func (s *shop) move(ctx context.Context, id int64, next order.Status) (*order.Order, error) {
	return s.orders.Apply(ctx, order.Move{MerchantID: s.m, ID: id, To: next, ByCode: next == order.Completed, Actor: "test"})
}

// count runs a count query written with ? placeholders.
func count(t testing.TB, db *sqldb.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	must(t, db.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

// checkStock asserts the stock invariant on every stock row: nothing
// negative, nothing oversold, and reserved equal to the units held by
// reserved allocations.
func checkStock(t testing.TB, db *sqldb.DB) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT st.store_id, st.lot_id, st.on_hand, st.reserved,
		COALESCE((SELECT SUM(a.quantity) FROM allocations a WHERE a.store_id = st.store_id AND a.lot_id = st.lot_id AND a.state = 'reserved'), 0)
		FROM stock st`)
	must(t, err)
	defer rows.Close()
	for rows.Next() {
		var store, lot, onHand, reserved, held int64
		must(t, rows.Scan(&store, &lot, &onHand, &reserved, &held))
		if onHand < 0 || reserved < 0 || onHand-reserved < 0 {
			t.Errorf("store %d lot %d: on_hand %d reserved %d", store, lot, onHand, reserved)
		}
		if reserved != held {
			t.Errorf("store %d lot %d: reserved %d but reserved allocations hold %d", store, lot, reserved, held)
		}
	}
	must(t, rows.Err())
}

func TestContractMigrate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		n := count(t, db, `SELECT count(*) FROM schema_migrations`)
		if n < 2 {
			t.Fatalf("want the core and EPCIS migrations recorded, got %d", n)
		}
		if db.Dialect == sqldb.Postgres {
			// bigint applied_at: unix ms overflow a 32-bit integer
			var at int64
			must(t, db.QueryRow(context.Background(), `SELECT applied_at FROM schema_migrations ORDER BY name LIMIT 1`).Scan(&at))
			if at < time.Now().Add(-time.Hour).UnixMilli() {
				t.Fatalf("applied_at %d", at)
			}
		}
		must(t, db.Ping(context.Background()))
	})
}

// TestContractMigrateConcurrent starts several nodes on one empty
// PostgreSQL schema at once: every node opens, each migration runs once.
func TestContractMigrateConcurrent(t *testing.T) {
	for _, d := range dialects() {
		if d != sqldb.Postgres {
			continue
		}
		t.Run(string(d), func(t *testing.T) {
			u, _ := newPostgresSchema(t)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			dbs := make(chan *sqldb.DB, 4)
			for range 4 {
				wg.Go(func() {
					db, err := sqldb.Open(context.Background(), u, "")
					if err != nil {
						errs <- err
						return
					}
					dbs <- db
				})
			}
			wg.Wait()
			close(errs)
			close(dbs)
			for err := range errs {
				t.Error(err)
			}
			var last *sqldb.DB
			for db := range dbs {
				if last != nil {
					last.Close()
				}
				last = db
			}
			if last == nil {
				t.FailNow()
			}
			defer last.Close()
			if n := count(t, last, `SELECT count(*) FROM schema_migrations`); n < 2 {
				t.Fatalf("migrations recorded: %d", n)
			}
		})
	}
}

func TestContractIdentity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		ids := s.ids

		m, err := ids.MerchantBySlug(ctx, "farm")
		must(t, err)
		if m.ID != s.m || m.NameEN != "Shop farm" {
			t.Fatalf("merchant %+v", m)
		}
		_, err = ids.MerchantBySlug(ctx, "nope")
		wantCode(t, err, "not_found")
		wantCode(t, ids.CreateMerchant(ctx, &identity.Merchant{Slug: "farm", Name: "dup"}), "conflict")

		st := &identity.Staff{MerchantID: s.m, Username: "host1", Phone: "13900000001", Name: "主播", Role: identity.Role("host"), StoreID: s.store, GuideCode: "G1", PasswordHash: "h"}
		must(t, ids.CreateStaff(ctx, st))
		for _, login := range []string{"host1", "13900000001"} {
			got, err := ids.StaffByLogin(ctx, login)
			must(t, err)
			if got.ID != st.ID || got.StoreID != s.store || got.Disabled {
				t.Fatalf("StaffByLogin(%s) = %+v", login, got)
			}
		}
		wantCode(t, ids.CreateStaff(ctx, &identity.Staff{MerchantID: s.other, Username: "host1", Name: "x", Role: "host", PasswordHash: "h"}), "conflict")
		st.Disabled, st.Name = true, "主播 2"
		must(t, ids.UpdateStaff(ctx, st))
		got, err := ids.Staff(ctx, s.m, st.ID)
		must(t, err)
		if !got.Disabled || got.Name != "主播 2" {
			t.Fatalf("updated staff %+v", got)
		}
		g, err := ids.StaffByGuideCode(ctx, s.m, "G1")
		must(t, err)
		if g.ID != st.ID {
			t.Fatalf("guide %+v", g)
		}
		list, err := ids.ListStaff(ctx, s.m)
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("staff list %+v", list)
		}
		// another tenant's staff is not found, and cannot be changed
		_, err = ids.Staff(ctx, s.other, st.ID)
		wantCode(t, err, "not_found")
		other := *st
		other.MerchantID = s.other
		wantCode(t, ids.UpdateStaff(ctx, &other), "not_found")
		_, err = ids.StaffByGuideCode(ctx, s.other, "G1")
		wantCode(t, err, "not_found")

		// customers: upsert is idempotent per merchant and phone
		c1, err := ids.UpsertCustomer(ctx, s.m, "13800000000")
		must(t, err)
		if c1.ID != s.cust {
			t.Fatalf("upsert made a second customer: %d vs %d", c1.ID, s.cust)
		}
		if _, err := ids.Customer(ctx, s.other, s.cust); !apperr.Is(err, "not_found") {
			t.Fatalf("other tenant's customer: %v", err)
		}

		// sessions and tokens
		now := db.Now()
		sess := &identity.Session{TokenHash: "hash-1", Kind: identity.KindToken, MerchantID: s.m, SubjectID: st.ID, Role: "admin", Label: "erp",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		must(t, ids.CreateSession(ctx, sess))
		gs, err := ids.SessionByTokenHash(ctx, "hash-1")
		must(t, err)
		if gs.ID != sess.ID || gs.Kind != identity.KindToken || gs.RevokedAt != nil || !gs.ExpiresAt.Equal(now.Add(time.Hour).Truncate(time.Millisecond)) {
			t.Fatalf("session %+v", gs)
		}
		toks, err := ids.ListTokens(ctx, s.m)
		must(t, err)
		if len(toks) != 1 || toks[0].TokenHash != "" {
			t.Fatalf("tokens %+v", toks)
		}
		wantCode(t, ids.RevokeSession(ctx, s.other, sess.ID), "not_found")
		must(t, ids.RevokeSession(ctx, s.m, sess.ID))
		wantCode(t, ids.RevokeSession(ctx, s.m, sess.ID), "not_found")
		gs, err = ids.SessionByTokenHash(ctx, "hash-1")
		must(t, err)
		if gs.RevokedAt == nil {
			t.Fatal("revoked session has no revoked_at")
		}
		wantCode(t, ids.CreateSession(ctx, &identity.Session{TokenHash: "hash-1", Kind: identity.KindStaff, MerchantID: s.m, Role: "admin", CreatedAt: now, ExpiresAt: now}), "conflict")

		// SessionSubject: the session with its own tenant's customer or staff row, in one lookup.
		must(t, ids.CreateSession(ctx, &identity.Session{TokenHash: "hash-cust", Kind: identity.KindCustomer, MerchantID: s.m, SubjectID: s.cust, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(t, ids.CreateSession(ctx, &identity.Session{TokenHash: "hash-staff", Kind: identity.KindStaff, MerchantID: s.m, SubjectID: st.ID, Role: st.Role, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(t, ids.CreateSession(ctx, &identity.Session{TokenHash: "hash-cross", Kind: identity.KindCustomer, MerchantID: s.other, SubjectID: s.cust, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		se, c, sf, err := ids.SessionSubject(ctx, "hash-cust")
		must(t, err)
		if se.Kind != identity.KindCustomer || c == nil || c.ID != s.cust || c.Phone != c1.Phone || sf != nil {
			t.Fatalf("customer session: %+v %+v %+v", se, c, sf)
		}
		se, c, sf, err = ids.SessionSubject(ctx, "hash-staff")
		must(t, err)
		if se.Kind != identity.KindStaff || c != nil || sf == nil || sf.ID != st.ID || sf.Name != st.Name || sf.Role != st.Role || sf.Disabled != st.Disabled {
			t.Fatalf("staff session: %+v %+v %+v", se, c, sf)
		}
		if _, c, _, err = ids.SessionSubject(ctx, "hash-cross"); err != nil || c != nil {
			t.Fatalf("a session of another tenant reached this tenant's customer: %+v %v", c, err)
		}
		se, c, sf, err = ids.SessionSubject(ctx, "hash-1")
		if err != nil || se.RevokedAt == nil || c != nil || sf != nil {
			t.Fatalf("token session: %+v %+v %+v %v", se, c, sf, err)
		}
		_, _, _, err = ids.SessionSubject(ctx, "no-such-hash")
		wantCode(t, err, "not_found")
	})
}

// TestContractConcurrentFirstLogin: one new phone number logging in on
// several requests at once is one customer, and no request fails.
func TestContractConcurrentFirstLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int64]bool{}
		for range 10 {
			wg.Go(func() {
				c, err := s.ids.UpsertCustomer(ctx, s.m, "13700001111")
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("upsert: %v", err)
					return
				}
				got[c.ID] = true
			})
		}
		wg.Wait()
		if len(got) != 1 || count(t, db, `SELECT count(*) FROM customers WHERE phone = ?`, "13700001111") != 1 {
			t.Fatalf("customers %v", got)
		}
	})
}

func TestContractOTP(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return t0 }
		const phone = "13811112222"

		must(t, s.ids.CreateOTP(ctx, s.m, phone, "good", t0.Add(5*time.Minute)))
		// wrong codes count; at the limit even the right code fails
		for range 3 {
			wantCode(t, s.ids.UseOTP(ctx, s.m, phone, "bad", 3), "invalid_otp")
		}
		if n := count(t, db, `SELECT attempts FROM otps WHERE phone = ?`, phone); n != 3 {
			t.Fatalf("attempts %d, want 3", n)
		}
		wantCode(t, s.ids.UseOTP(ctx, s.m, phone, "good", 3), "invalid_otp")

		// a new code works once
		must(t, s.ids.CreateOTP(ctx, s.m, phone, "good2", t0.Add(5*time.Minute)))
		wantCode(t, s.ids.UseOTP(ctx, s.other, phone, "good2", 3), "invalid_otp") // other tenant
		must(t, s.ids.UseOTP(ctx, s.m, phone, "good2", 3))
		wantCode(t, s.ids.UseOTP(ctx, s.m, phone, "good2", 3), "invalid_otp")

		// expiry
		must(t, s.ids.CreateOTP(ctx, s.m, phone, "late", t0.Add(5*time.Minute)))
		db.Now = func() time.Time { return t0.Add(6 * time.Minute) }
		wantCode(t, s.ids.UseOTP(ctx, s.m, phone, "late", 3), "invalid_otp")

		n, err := s.ids.CountRecentOTPs(ctx, s.m, phone, t0.Add(-time.Minute))
		must(t, err)
		if n != 3 {
			t.Fatalf("recent OTPs %d, want 3", n)
		}
		n, err = s.ids.CountRecentOTPs(ctx, s.m, phone, t0.Add(time.Minute))
		must(t, err)
		if n != 0 {
			t.Fatalf("OTPs after t0+1m: %d", n)
		}
	})
}

// TestContractOTPConcurrentGuesses: parallel wrong guesses cannot exceed
// the attempt limit, and one right code logs in once.
func TestContractOTPConcurrentGuesses(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		const phone = "13811113333"
		must(t, s.ids.CreateOTP(ctx, s.m, phone, "right", db.Now().Add(5*time.Minute)))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { s.ids.UseOTP(ctx, s.m, phone, "wrong", 5) })
		}
		wg.Wait()
		if n := count(t, db, `SELECT attempts FROM otps WHERE phone = ?`, phone); n != 5 {
			t.Fatalf("attempts %d after 20 parallel wrong guesses, want exactly the limit 5", n)
		}
		must(t, s.ids.CreateOTP(ctx, s.m, phone, "right2", db.Now().Add(5*time.Minute)))
		var ok sync.Map
		for i := range 10 {
			wg.Go(func() {
				if s.ids.UseOTP(ctx, s.m, phone, "right2", 5) == nil {
					ok.Store(i, true)
				}
			})
		}
		wg.Wait()
		n := 0
		ok.Range(func(any, any) bool { n++; return true })
		if n != 1 {
			t.Fatalf("one code logged in %d times", n)
		}
	})
}

func TestContractCatalog(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)

		p, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		if p.Name != "草莓 Strawberries" || p.Storage != catalog.Chilled || !p.Active || len(p.SKUs) != 1 || p.SKUs[0].PriceFen != price || p.SKUs[0].Available != 0 || p.SKUs[0].NameEN != "500g punnet" {
			t.Fatalf("product %+v", p)
		}
		// update: rename, change the SKU, add a SKU, deactivate the product
		p.Name, p.Active = "草莓 Premium", false
		p.SKUs[0].Name, p.SKUs[0].NameEN, p.SKUs[0].ListPriceFen = "500g 盒", " 500g box ", 1680
		p.SKUs = append(p.SKUs, catalog.SKU{Code: "farm-1000", Name: "1kg", PriceFen: 2380, Active: true})
		must(t, s.cat.UpdateProduct(ctx, p))
		got, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		if got.Name != "草莓 Premium" || got.Active || len(got.SKUs) != 2 || got.SKUs[0].Name != "500g 盒" || got.SKUs[0].NameEN != "500g box" || got.SKUs[0].ListPriceFen != 1680 || got.SKUs[1].PriceFen != 2380 || got.SKUs[1].NameEN != "" {
			t.Fatalf("updated product %+v", got)
		}

		must(t, s.cat.SetPrice(ctx, s.m, s.sku, 990))
		k, kp, err := s.cat.SKU(ctx, s.m, s.sku)
		must(t, err)
		if k.PriceFen != 990 || kp.ID != s.product {
			t.Fatalf("SKU after SetPrice: %+v", k)
		}
		wantCode(t, s.cat.SetPrice(ctx, s.m, s.sku, -1), "invalid_price")
		wantCode(t, s.cat.SetPrice(ctx, s.other, s.sku, 990), "not_found")
		_, _, err = s.cat.SKU(ctx, s.other, s.sku)
		wantCode(t, err, "not_found")
		_, err = s.cat.Product(ctx, s.other, s.product)
		wantCode(t, err, "not_found")
		other := *got
		other.MerchantID = s.other
		wantCode(t, s.cat.UpdateProduct(ctx, &other), "not_found")

		// SKU codes are unique per merchant
		dup := &catalog.Product{MerchantID: s.m, Name: "蓝莓", SKUs: []catalog.SKU{{Code: "farm-1000", Name: "x", PriceFen: 1}}}
		wantCode(t, s.cat.CreateProduct(ctx, dup), "conflict")

		// available counts sellable stock only: not expired, not on hold, not reserved
		s.lot(t, s.m, s.sku, s.store, "L1", 48*time.Hour, 10)
		held := s.lot(t, s.m, s.sku, s.store, "L2", 48*time.Hour, 7)
		s.lot(t, s.m, s.sku, s.store, "OLD", -time.Hour, 5)
		must(t, s.inv.SetHold(ctx, s.m, held, true, "温度超标"))
		list, err := s.cat.ListProducts(ctx, s.m)
		must(t, err)
		if len(list) != 1 || list[0].SKUs[0].Available != 10 || list[0].SKUs[1].Available != 0 {
			t.Fatalf("list %+v", list)
		}
		otherList, err := s.cat.ListProducts(ctx, s.other)
		must(t, err)
		if len(otherList) != 1 || otherList[0].ID == s.product {
			t.Fatalf("other tenant's list %+v", otherList)
		}
	})
}

func TestContractStores(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		st, err := s.repo.Store(ctx, s.m, s.shipper)
		must(t, err)
		if !st.Delivery || st.Lat != 31.1 || st.Lng != 121.4 {
			t.Fatalf("store %+v", st)
		}
		st.Name, st.Delivery, st.Hours = "闵行仓", false, "8:00-20:00"
		must(t, s.repo.UpdateStore(ctx, st))
		got, err := s.repo.Store(ctx, s.m, s.shipper)
		must(t, err)
		if got.Name != "闵行仓" || got.Delivery || got.Hours != "8:00-20:00" {
			t.Fatalf("updated store %+v", got)
		}
		list, err := s.repo.ListStores(ctx, s.m)
		must(t, err)
		if len(list) != 2 || list[0].ID != s.store {
			t.Fatalf("stores %+v", list)
		}
		_, err = s.repo.Store(ctx, s.other, s.store)
		wantCode(t, err, "not_found")
		st.MerchantID = s.other
		wantCode(t, s.repo.UpdateStore(ctx, st), "not_found")
		wantCode(t, s.repo.CreateStore(ctx, &stores.Store{MerchantID: s.m, Name: "x", Address: "y"}), "invalid_location")
	})
}

func TestContractInventory(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		now := db.Now()
		db.Now = func() time.Time { return now }
		wantCode(t, s.inv.CreateLot(ctx, &inventory.Lot{MerchantID: s.m, SKUID: s.otherSKU, Code: "X", ProducedAt: now, ExpiresAt: now.Add(time.Hour)}), "unknown_sku")
		late := s.lot(t, s.m, s.sku, s.store, "LATE", 72*time.Hour, 10)
		early := s.lot(t, s.m, s.sku, s.store, "EARLY", 24*time.Hour, 4)
		wantCode(t, s.inv.CreateLot(ctx, &inventory.Lot{MerchantID: s.m, SKUID: s.sku, Code: "EARLY", ProducedAt: now, ExpiresAt: now.Add(time.Hour)}), "conflict")

		lots, err := s.inv.ListLots(ctx, s.m, s.sku)
		must(t, err)
		if len(lots) != 2 || lots[0].ID != early || lots[1].ID != late || lots[0].Origin != "崇明" {
			t.Fatalf("lots in expiry order: %+v", lots)
		}
		l, err := s.inv.Lot(ctx, s.m, early)
		must(t, err)
		if !l.ExpiresAt.Equal(now.Add(24*time.Hour).Truncate(time.Millisecond)) || l.Hold {
			t.Fatalf("lot %+v", l)
		}
		_, err = s.inv.Lot(ctx, s.other, early)
		wantCode(t, err, "not_found")
		wantCode(t, s.inv.SetHold(ctx, s.other, early, true, "x"), "not_found")
		wantCode(t, s.inv.SetStock(ctx, s.other, s.otherStore, early, 5), "unknown_lot")
		wantCode(t, s.inv.SetStock(ctx, s.m, s.otherStore, early, 5), "unknown_store")
		wantCode(t, s.inv.SetStock(ctx, s.m, s.store, early, -1), "invalid_quantity")

		av, err := s.inv.Available(ctx, s.m, []int64{s.sku, s.otherSKU})
		must(t, err)
		if av[s.sku] != 14 || av[s.otherSKU] != 0 {
			t.Fatalf("available %v", av)
		}
		must(t, s.inv.SetHold(ctx, s.m, early, true, "召回 recall"))
		av, err = s.inv.Available(ctx, s.m, []int64{s.sku})
		must(t, err)
		if av[s.sku] != 10 {
			t.Fatalf("available with the early lot on hold: %v", av)
		}
		l, err = s.inv.Lot(ctx, s.m, early)
		must(t, err)
		if !l.Hold || l.HoldReason != "召回 recall" {
			t.Fatalf("held lot %+v", l)
		}
		must(t, s.inv.SetHold(ctx, s.m, early, false, ""))

		// SetStock cannot go below what orders reserved
		o := s.buy(t, 6) // FEFO: 4 from EARLY, 2 from LATE
		if lv := s.level(t, s.store, late); lv.Reserved != 2 || lv.OnHand != 10 {
			t.Fatalf("late level %+v", lv)
		}
		wantCode(t, s.inv.SetStock(ctx, s.m, s.store, late, 1), "below_reserved")
		must(t, s.inv.SetStock(ctx, s.m, s.store, late, 2))
		if lv := s.level(t, s.store, late); lv.OnHand != 2 || lv.Reserved != 2 {
			t.Fatalf("late level after SetStock 2: %+v", lv)
		}
		must(t, s.inv.SetStock(ctx, s.m, s.store, late, 20))
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Cancelled)
		must(t, err)
		checkStock(t, db)
	})
}

func TestContractOrderCreate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		late := s.lot(t, s.m, s.sku, s.store, "LATE", 72*time.Hour, 10)
		early := s.lot(t, s.m, s.sku, s.store, "EARLY", 24*time.Hour, 3)
		expired := s.lot(t, s.m, s.sku, s.store, "GONE", -time.Minute, 50)

		// FEFO across lots, never from an expired lot
		o := s.newOrder("k1", "h1")
		o.RoomID, o.GuideCode = 0, "G7"
		created, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 5}})
		must(t, err)
		if !created || o.Status != order.PendingPayment || o.TotalFen != 5*price || len(o.Lines) != 1 || o.Lines[0].UnitFen != price || len(o.PickupCode) != 8 || o.Number == "" {
			t.Fatalf("order %+v", o)
		}
		if lv := s.level(t, s.store, early); lv.Reserved != 3 {
			t.Fatalf("early lot reserved %d, want 3 (FEFO)", lv.Reserved)
		}
		if lv := s.level(t, s.store, late); lv.Reserved != 2 {
			t.Fatalf("late lot reserved %d, want 2", lv.Reserved)
		}
		if lv := s.level(t, s.store, expired); lv.Reserved != 0 {
			t.Fatalf("expired lot reserved %d", lv.Reserved)
		}
		got, err := s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if got.Number != o.Number || got.GuideCode != "G7" || got.TotalFen != o.TotalFen || len(got.Lines) != 1 || got.Lines[0].ProductName != "草莓 Strawberries" || got.Lines[0].ProductNameEN != "Strawberries" || got.Lines[0].SKUNameEN != "500g punnet" ||
			!got.ReserveExpiresAt.Equal(o.ReserveExpiresAt.Truncate(time.Millisecond)) {
			t.Fatalf("stored order %+v", got)
		}

		// same key, same request: the same order, nothing reserved twice
		again := s.newOrder("k1", "h1")
		created, err = s.orders.Create(ctx, again, []order.Item{{SKUID: s.sku, Quantity: 5}})
		must(t, err)
		if created || again.ID != o.ID || again.Number != o.Number {
			t.Fatalf("replayed order: created=%v %+v", created, again)
		}
		// same key, different request
		_, err = s.orders.Create(ctx, s.newOrder("k1", "h2"), []order.Item{{SKUID: s.sku, Quantity: 1}})
		wantCode(t, err, "idempotency_key_reused")
		if n := count(t, db, `SELECT count(*) FROM orders`); n != 1 {
			t.Fatalf("%d orders after idempotent replays", n)
		}

		// out of stock: nothing written
		before := count(t, db, `SELECT count(*) FROM allocations`)
		_, err = s.orders.Create(ctx, s.newOrder("k2", "h"), []order.Item{{SKUID: s.sku, Quantity: 9}}) // 8 left
		wantCode(t, err, "out_of_stock")
		if count(t, db, `SELECT count(*) FROM orders`) != 1 || count(t, db, `SELECT count(*) FROM allocations`) != before || count(t, db, `SELECT count(*) FROM order_lines`) != 1 {
			t.Fatal("a refused order left rows behind")
		}
		if lv := s.level(t, s.store, late); lv.Reserved != 2 {
			t.Fatalf("late lot reserved %d after a refused order", lv.Reserved)
		}
		// the failed key is still free
		o2 := s.newOrder("k2", "h")
		_, err = s.orders.Create(ctx, o2, []order.Item{{SKUID: s.sku, Quantity: 5}})
		must(t, err)

		// unknown, foreign and inactive SKUs; unknown store
		_, err = s.orders.Create(ctx, s.newOrder("", ""), []order.Item{{SKUID: s.otherSKU, Quantity: 1}})
		wantCode(t, err, "unknown_sku")
		bad := s.newOrder("", "")
		bad.StoreID = s.otherStore
		_, err = s.orders.Create(ctx, bad, []order.Item{{SKUID: s.sku, Quantity: 1}})
		wantCode(t, err, "unknown_store")
		p, err := s.cat.Product(ctx, s.m, s.product)
		must(t, err)
		p.Active = false
		must(t, s.cat.UpdateProduct(ctx, p))
		_, err = s.orders.Create(ctx, s.newOrder("", ""), []order.Item{{SKUID: s.sku, Quantity: 1}})
		wantCode(t, err, "unknown_sku")
		p.Active = true
		must(t, s.cat.UpdateProduct(ctx, p))

		// delivery picks the delivery store (no stock there: out of stock)
		d := s.newOrder("", "")
		d.Fulfilment, d.StoreID, d.ContactName, d.Address = order.Delivery, 0, "王", "上海"
		_, err = s.orders.Create(ctx, d, []order.Item{{SKUID: s.sku, Quantity: 1}})
		wantCode(t, err, "out_of_stock")
		s.lot(t, s.m, s.sku, s.shipper, "SHIP", 24*time.Hour, 5)
		d = s.newOrder("", "")
		d.Fulfilment, d.StoreID, d.ContactName, d.Address = order.Delivery, 0, "王", "上海"
		_, err = s.orders.Create(ctx, d, []order.Item{{SKUID: s.sku, Quantity: 1}})
		must(t, err)
		if d.StoreID != s.shipper || d.PickupCode != "" {
			t.Fatalf("delivery order %+v", d)
		}
		od := s.newOrder("", "")
		od.MerchantID, od.CustomerID, od.Fulfilment, od.StoreID, od.ContactName, od.Address = s.other, s.otherCust, order.Delivery, 0, "李", "北京"
		_, err = s.orders.Create(ctx, od, []order.Item{{SKUID: s.otherSKU, Quantity: 1}})
		wantCode(t, err, "no_delivery_store")

		// lists and lookups are tenant-scoped
		list, err := s.orders.List(ctx, order.Filter{MerchantID: s.m, Status: order.PendingPayment})
		must(t, err)
		if len(list) != 3 || list[0].ID != d.ID || len(list[2].Lines) != 1 {
			t.Fatalf("list %+v", list)
		}
		list, err = s.orders.List(ctx, order.Filter{MerchantID: s.m, StoreID: s.store, Limit: 1})
		must(t, err)
		if len(list) != 1 || list[0].ID != o2.ID {
			t.Fatalf("list by store, limit 1: %+v", list)
		}
		list, err = s.orders.List(ctx, order.Filter{MerchantID: s.other})
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("other tenant sees %d orders", len(list))
		}
		bc, err := s.orders.ByPickupCode(ctx, s.m, o.PickupCode)
		must(t, err)
		if bc.ID != o.ID {
			t.Fatalf("by pickup code: %+v", bc)
		}
		_, err = s.orders.ByPickupCode(ctx, s.other, o.PickupCode)
		wantCode(t, err, "invalid_pickup_code")
		_, err = s.orders.Get(ctx, s.other, o.ID)
		wantCode(t, err, "not_found")
		checkStock(t, db)
	})
}

func TestContractOrderTransitions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 20)

		// pickup: paid → ready → completed consumes once
		o := s.buy(t, 3)
		_, err := s.orders.Transition(ctx, s.m, o.ID, order.Completed)
		wantCode(t, err, "invalid_transition") // unpaid
		_, err = s.orders.Transition(ctx, s.other, o.ID, order.Paid)
		wantCode(t, err, "not_found")
		for _, next := range []order.Status{order.Paid, order.Ready} {
			got, err := s.orders.Transition(ctx, s.m, o.ID, next)
			must(t, err)
			if got.Status != next {
				t.Fatalf("status %s, want %s", got.Status, next)
			}
		}
		if lv := s.level(t, s.store, lot); lv.OnHand != 20 || lv.Reserved != 3 {
			t.Fatalf("before handover %+v", lv)
		}
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Completed)
		wantCode(t, err, "pickup_needs_code") // not without the buyer's code
		done, err := s.move(ctx, o.ID, order.Completed)
		must(t, err)
		if done.CompletedAt == nil || done.PaidAt == nil || done.ReadyAt == nil {
			t.Fatalf("completed order %+v", done)
		}
		if lv := s.level(t, s.store, lot); lv.OnHand != 17 || lv.Reserved != 0 {
			t.Fatalf("after handover %+v", lv)
		}
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Completed)
		wantCode(t, err, "invalid_transition")
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Cancelled)
		wantCode(t, err, "invalid_transition")
		if lv := s.level(t, s.store, lot); lv.OnHand != 17 || lv.Reserved != 0 {
			t.Fatalf("after refused moves %+v", lv)
		}

		// cancel unpaid: released, no refund
		c := s.buy(t, 2)
		got, err := s.orders.Transition(ctx, s.m, c.ID, order.Cancelled)
		must(t, err)
		if got.RefundedFen != 0 || got.CancelledAt == nil {
			t.Fatalf("cancelled %+v", got)
		}
		// cancel paid: released and refunded in full
		cp := s.buy(t, 2)
		_, err = s.orders.Transition(ctx, s.m, cp.ID, order.Paid)
		must(t, err)
		got, err = s.orders.Transition(ctx, s.m, cp.ID, order.Cancelled)
		must(t, err)
		if got.RefundedFen != 2*price {
			t.Fatalf("refund %d", got.RefundedFen)
		}
		// expire releases
		e := s.buy(t, 4)
		_, err = s.orders.Transition(ctx, s.m, e.ID, order.Expired)
		must(t, err)
		_, err = s.orders.Transition(ctx, s.m, e.ID, order.Paid)
		wantCode(t, err, "invalid_transition")
		// a delivery: shipped then completed consumes once
		shipLot := s.lot(t, s.m, s.sku, s.shipper, "S", 48*time.Hour, 5)
		sh := s.buyFor(t, 1, order.Delivery)
		for _, next := range []order.Status{order.Paid, order.Shipped, order.Completed} {
			_, err := s.orders.Transition(ctx, s.m, sh.ID, next)
			must(t, err)
		}
		if lv := s.level(t, s.store, lot); lv.OnHand != 17 || lv.Reserved != 0 {
			t.Fatalf("final level %+v", lv)
		}
		if lv := s.level(t, s.shipper, shipLot); lv.OnHand != 4 || lv.Reserved != 0 {
			t.Fatalf("final shipper level %+v", lv)
		}
		if n := count(t, db, `SELECT count(*) FROM allocations WHERE state = 'consumed'`); n != 2 {
			t.Fatalf("consumed allocations %d", n)
		}
		checkStock(t, db)
	})
}

func TestContractExpireDue(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 10)
		due := s.buy(t, 2)
		paid := s.buy(t, 1)
		fresh := s.buy(t, 1)
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE orders SET reserve_expires_at = ? WHERE id IN (?, ?)`, db.Now().Add(-time.Minute).UnixMilli(), due.ID, paid.ID)
			return err
		}))
		_, err := s.orders.Transition(ctx, s.m, paid.ID, order.Paid)
		must(t, err)
		out, err := s.orders.ExpireDue(ctx, db.Now(), 100)
		must(t, err)
		if len(out) != 1 || out[0].ID != due.ID || out[0].Status != order.Expired {
			t.Fatalf("expired %+v", out)
		}
		if lv := s.level(t, s.store, lot); lv.Reserved != 2 { // paid 1 + fresh 1
			t.Fatalf("reserved %d after expiry", lv.Reserved)
		}
		out, err = s.orders.ExpireDue(ctx, db.Now(), 100)
		must(t, err)
		if len(out) != 0 {
			t.Fatalf("expired twice: %+v", out)
		}
		got, err := s.orders.Get(ctx, s.m, fresh.ID)
		must(t, err)
		if got.Status != order.PendingPayment {
			t.Fatalf("fresh order %s", got.Status)
		}
		checkStock(t, db)
	})
}

func TestContractPayments(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 10)
		o := s.buy(t, 2)
		in := &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "dev", Intent: "pi_1", AmountFen: o.TotalFen}
		must(t, s.orders.CreateIntent(ctx, in))
		pi, err := s.orders.PendingIntent(ctx, s.m, o.ID, "dev", "")
		must(t, err)
		if pi.ID != in.ID || pi.Status != "pending" {
			t.Fatalf("pending intent %+v", pi)
		}
		_, err = s.orders.PendingIntent(ctx, s.other, o.ID, "dev", "")
		wantCode(t, err, "not_found")

		// amount mismatch changes nothing
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_1", AmountFen: 1, Nonce: "n0"}, "dev", db.Now())
		wantCode(t, err, "amount_mismatch")
		// unknown intent, or another provider's
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_1", AmountFen: o.TotalFen, Nonce: "n0b"}, "wechat", db.Now())
		wantCode(t, err, "not_found")

		paidOrder, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_1", AmountFen: o.TotalFen, ProviderRef: "ref-1", Nonce: "n1"}, "dev", db.Now())
		must(t, err)
		if paidOrder.ID != o.ID || paidOrder.MerchantID != s.m || paidOrder.Status != order.Paid || paidOrder.PaidAt == nil || len(paidOrder.Lines) == 0 {
			t.Fatalf("ApplyPaid returned %+v", paidOrder)
		}
		if stored, err := s.orders.Get(ctx, s.m, o.ID); err != nil || !reflect.DeepEqual(stored, paidOrder) {
			t.Fatalf("ApplyPaid returned\n%+v\nthe order reads\n%+v (%v)", paidOrder, stored, err)
		}
		got, err := s.orders.IntentByID(ctx, "pi_1")
		must(t, err)
		if got.Status != "paid" || got.ProviderRef != "ref-1" || got.PaidAt == nil {
			t.Fatalf("intent %+v", got)
		}
		po, err := s.orders.Get(ctx, s.m, o.ID)
		must(t, err)
		if po.Status != order.Paid || po.PaidAt == nil {
			t.Fatalf("order %+v", po)
		}
		// the same nonce, or a new nonce for a paid intent: replayed
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_1", AmountFen: o.TotalFen, Nonce: "n1"}, "dev", db.Now())
		wantCode(t, err, "replayed_callback")
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_1", AmountFen: o.TotalFen, Nonce: "n2"}, "dev", db.Now())
		wantCode(t, err, "replayed_callback")

		// an order that is no longer payable
		c := s.buy(t, 1)
		must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: c.ID, Provider: "dev", Intent: "pi_2", AmountFen: c.TotalFen}))
		_, err = s.orders.Transition(ctx, s.m, c.ID, order.Cancelled)
		must(t, err)
		_, err = s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_2", AmountFen: c.TotalFen, Nonce: "n3"}, "dev", db.Now())
		wantTooLate(t, err) // kept and refunded (TestContractPaidTooLate)
		pi2, err := s.orders.IntentByID(ctx, "pi_2")
		must(t, err)
		if pi2.Status != "refunded" {
			t.Fatalf("intent of a cancelled order: %s", pi2.Status)
		}
		if co, _ := s.orders.Get(ctx, s.m, c.ID); co.Status != order.Cancelled || co.PaidAt != nil {
			t.Fatalf("a late payment changed the cancelled order: %+v", co)
		}
		// cancelling a paid order refunds the payment
		_, err = s.orders.Transition(ctx, s.m, o.ID, order.Cancelled)
		must(t, err)
		got, err = s.orders.IntentByID(ctx, "pi_1")
		must(t, err)
		if got.Status != "refunded" {
			t.Fatalf("payment of a cancelled paid order: %s", got.Status)
		}
		wantCode(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: c.ID, Provider: "dev", Intent: "pi_2", AmountFen: 1}), "conflict")
	})
}

func TestContractLive(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		sched := db.Now().Add(time.Hour)
		r := &live.Room{MerchantID: s.m, Slug: "Berry-Live", Title: "草莓直播", HostName: "小王", StreamKey: "sk_1", ScheduledAt: &sched}
		must(t, s.live.CreateRoom(ctx, r))
		wantCode(t, s.live.CreateRoom(ctx, &live.Room{MerchantID: s.other, Slug: "berry-live", Title: "x"}), "slug_taken")
		for name, get := range map[string]func() (*live.Room, error){
			"slug":   func() (*live.Room, error) { return s.live.RoomBySlug(ctx, "berry-live") },
			"id":     func() (*live.Room, error) { return s.live.RoomByID(ctx, r.ID) },
			"tenant": func() (*live.Room, error) { return s.live.Room(ctx, s.m, r.ID) },
			"key":    func() (*live.Room, error) { return s.live.RoomByStreamKey(ctx, "sk_1") },
		} {
			got, err := get()
			must(t, err)
			if got.ID != r.ID || got.Status != live.Scheduled || got.ScheduledAt == nil || !got.ScheduledAt.Equal(sched.Truncate(time.Millisecond)) || len(got.ProductIDs) != 0 {
				t.Fatalf("room by %s: %+v", name, got)
			}
		}
		_, err := s.live.Room(ctx, s.other, r.ID)
		wantCode(t, err, "not_found")
		_, err = s.live.RoomByStreamKey(ctx, "")
		wantCode(t, err, "not_found")

		started := db.Now()
		r.Status, r.StartedAt, r.Title = live.Live, &started, "草莓直播 · 现摘"
		must(t, s.live.UpdateRoom(ctx, r))
		pub, err := s.live.ListPublicRooms(ctx, 10)
		must(t, err)
		if len(pub) != 1 || pub[0].Status != live.Live || pub[0].Title != "草莓直播 · 现摘" {
			t.Fatalf("public rooms %+v", pub)
		}
		wrong := *r
		wrong.MerchantID = s.other
		wantCode(t, s.live.UpdateRoom(ctx, &wrong), "not_found")

		// lineup and pins
		p2 := &catalog.Product{MerchantID: s.m, Name: "蓝莓", SKUs: []catalog.SKU{{Code: "bb", Name: "125g", PriceFen: 990, Active: true}}, Active: true}
		must(t, s.cat.CreateProduct(ctx, p2))
		must(t, s.live.SetLineup(ctx, s.m, r.ID, []int64{p2.ID}))
		wantCode(t, s.live.SetLineup(ctx, s.other, r.ID, []int64{p2.ID}), "not_found")
		wantCode(t, s.live.SetLineup(ctx, s.m, r.ID, []int64{p2.ID, 999999}), "unknown_product")
		t1 := db.Now()
		must(t, s.live.Pin(ctx, s.m, r.ID, s.product, t1))
		must(t, s.live.Pin(ctx, s.m, r.ID, p2.ID, t1.Add(time.Second)))
		must(t, s.live.Pin(ctx, s.m, r.ID, s.product, t1.Add(2*time.Second))) // already in the lineup
		wantCode(t, s.live.Pin(ctx, s.other, r.ID, s.product, t1), "unknown_product")
		got, err := s.live.Room(ctx, s.m, r.ID)
		must(t, err)
		if got.PinnedProductID != s.product || len(got.ProductIDs) != 2 || got.ProductIDs[0] != p2.ID || got.ProductIDs[1] != s.product {
			t.Fatalf("room after pins %+v", got)
		}
		pins, err := s.live.Pins(ctx, s.m, r.ID)
		must(t, err)
		if len(pins) != 3 || pins[1].ProductID != p2.ID || !pins[2].At.Equal(t1.Add(2*time.Second).Truncate(time.Millisecond)) {
			t.Fatalf("pins %+v", pins)
		}
		if pins, _ := s.live.Pins(ctx, s.other, r.ID); len(pins) != 0 {
			t.Fatalf("other tenant sees pins %+v", pins)
		}
		must(t, s.live.Pin(ctx, s.m, r.ID, 0, t1)) // unpin
		got, err = s.live.Room(ctx, s.m, r.ID)
		must(t, err)
		if got.PinnedProductID != 0 {
			t.Fatalf("unpinned room %+v", got)
		}

		// likes, comments, moderation
		must(t, s.live.AddLikes(ctx, r.ID, 5))
		must(t, s.live.AddLikes(ctx, r.ID, 7))
		var ids []int64
		for i := range 4 {
			c := &live.Comment{RoomID: r.ID, MerchantID: s.m, AuthorKind: "customer", AuthorID: s.cust, AuthorName: "顾客", Body: fmt.Sprintf("第%d条 好吃吗？", i)}
			must(t, s.live.AddComment(ctx, c))
			ids = append(ids, c.ID)
		}
		must(t, s.live.DeleteComment(ctx, s.m, r.ID, ids[1]))
		wantCode(t, s.live.DeleteComment(ctx, s.other, r.ID, ids[2]), "not_found")
		recent, err := s.live.RecentComments(ctx, r.ID, 2)
		must(t, err)
		if len(recent) != 2 || recent[0].ID != ids[2] || recent[1].ID != ids[3] || recent[1].Body != "第3条 好吃吗？" {
			t.Fatalf("recent comments %+v", recent)
		}
		all, err := s.live.RecentComments(ctx, r.ID, 10)
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("comments without the deleted one: %d", len(all))
		}
		rooms, err := s.live.ListRooms(ctx, s.m)
		must(t, err)
		if len(rooms) != 1 || rooms[0].Likes != 12 || len(rooms[0].ProductIDs) != 2 {
			t.Fatalf("rooms %+v", rooms)
		}
		if rooms, _ := s.live.ListRooms(ctx, s.other); len(rooms) != 0 {
			t.Fatalf("other tenant's rooms %+v", rooms)
		}
	})
}

func TestContractAudit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		for i := range 3 {
			must(t, db.Audit(ctx, s.m, "staff:1", "price.set", fmt.Sprintf("sku:%d", i), `{"price_fen":990}`))
		}
		must(t, db.Audit(ctx, s.other, "staff:9", "lot.hold", "lot:1", ""))
		log, err := db.AuditLog(ctx, s.m, 2)
		must(t, err)
		if len(log) != 2 || log[0].Object != "sku:2" || log[1].Object != "sku:1" || log[0].Detail != `{"price_fen":990}` || log[0].At.IsZero() {
			t.Fatalf("audit log %+v", log)
		}
		log, err = db.AuditLog(ctx, s.other, 10)
		must(t, err)
		if len(log) != 1 || log[0].Action != "lot.hold" {
			t.Fatalf("other tenant's audit log %+v", log)
		}
	})
}

// TestContractFlashSale: 200 buyers race for the last 50 units (two lots
// in one store). Exactly 50 orders win, nothing is oversold, and the stock
// rows agree with the allocations.
func TestContractFlashSale(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		a := s.lot(t, s.m, s.sku, s.store, "A", 24*time.Hour, 30)
		b := s.lot(t, s.m, s.sku, s.store, "B", 48*time.Hour, 20)
		const buyers = 200
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, sold, lost := 0, 0, 0
		var other []error
		start := make(chan struct{})
		for i := range buyers {
			wg.Go(func() {
				c, err := s.ids.UpsertCustomer(ctx, s.m, fmt.Sprintf("139%08d", i))
				if err != nil {
					mu.Lock()
					other = append(other, err)
					mu.Unlock()
					return
				}
				<-start
				o := s.newOrder(fmt.Sprintf("buy-%d", i), "h")
				o.CustomerID = c.ID
				_, err = s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 1}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
					sold += int(o.Lines[0].Quantity)
				case apperr.Is(err, "out_of_stock"):
					lost++
				default:
					other = append(other, err)
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range other {
			t.Errorf("unexpected error: %v", err)
		}
		if won != 50 || sold != 50 || lost != buyers-50 {
			t.Fatalf("won %d (units %d), lost %d; want 50 and %d", won, sold, lost, buyers-50)
		}
		la, lb := s.level(t, s.store, a), s.level(t, s.store, b)
		if la.Reserved != 30 || lb.Reserved != 20 {
			t.Fatalf("reserved A %d B %d", la.Reserved, lb.Reserved)
		}
		if n := count(t, db, `SELECT COALESCE(SUM(quantity), 0) FROM allocations WHERE state = 'reserved'`); n != 50 {
			t.Fatalf("reserved allocations hold %d units", n)
		}
		if n := count(t, db, `SELECT count(*) FROM orders`); n != 50 {
			t.Fatalf("%d orders stored", n)
		}
		checkStock(t, db)
	})
}

// TestContractNoFalseOutOfStock: as many buyers as units, spread over two
// lots, all at once. Every buyer must win: a buyer whose FEFO pick was
// taken by someone else while another lot still had stock is not "out of
// stock" (on PostgreSQL the order transaction runs again from fresh reads).
func TestContractNoFalseOutOfStock(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "A", 24*time.Hour, 20)
		s.lot(t, s.m, s.sku, s.store, "B", 48*time.Hour, 20)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				<-start
				_, err := s.orders.Create(ctx, s.newOrder("", ""), []order.Item{{SKUID: s.sku, Quantity: 1}})
				if err != nil {
					t.Errorf("buyer refused with stock left: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := count(t, db, `SELECT COALESCE(SUM(reserved), 0) FROM stock`); n != 40 {
			t.Fatalf("reserved %d of 40", n)
		}
		checkStock(t, db)
	})
}

// TestContractConcurrentTransitions: ten parallel "complete" calls on one
// paid order consume its stock once; parallel cancel/complete on another
// order apply exactly one of them.
func TestContractConcurrentTransitions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 100)
		race := func(id int64, moves []order.Status) (ok []order.Status) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for _, next := range moves {
				wg.Go(func() {
					_, err := s.move(ctx, id, next)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok = append(ok, next)
					case apperr.Is(err, "invalid_transition"):
					default:
						t.Errorf("transition to %s: %v", next, err)
					}
				})
			}
			wg.Wait()
			return ok
		}

		o := s.buy(t, 7)
		_, err := s.orders.Transition(ctx, s.m, o.ID, order.Paid)
		must(t, err)
		moves := make([]order.Status, 10)
		for i := range moves {
			moves[i] = order.Completed
		}
		if ok := race(o.ID, moves); len(ok) != 1 {
			t.Fatalf("%d of 10 parallel completions succeeded", len(ok))
		}
		if lv := s.level(t, s.store, lot); lv.OnHand != 93 || lv.Reserved != 0 {
			t.Fatalf("after parallel completions %+v, want on_hand 93 reserved 0", lv)
		}

		// cancel vs complete vs expire on a paid order: one wins
		o2 := s.buy(t, 5)
		_, err = s.orders.Transition(ctx, s.m, o2.ID, order.Paid)
		must(t, err)
		var mixed []order.Status
		for range 4 {
			mixed = append(mixed, order.Cancelled, order.Completed, order.Ready)
		}
		ok := race(o2.ID, mixed)
		got, err := s.orders.Get(ctx, s.m, o2.ID)
		must(t, err)
		lv := s.level(t, s.store, lot)
		switch got.Status {
		case order.Cancelled:
			if lv.OnHand != 93 || lv.Reserved != 0 || got.RefundedFen != got.TotalFen {
				t.Fatalf("cancelled: %+v refund %d", lv, got.RefundedFen)
			}
		case order.Completed:
			if lv.OnHand != 88 || lv.Reserved != 0 {
				t.Fatalf("completed: %+v", lv)
			}
		case order.Ready:
			if lv.OnHand != 93 || lv.Reserved != 5 {
				t.Fatalf("ready: %+v", lv)
			}
		default:
			t.Fatalf("status %s after %v", got.Status, ok)
		}
		// paid → ready → completed/cancelled is the only way two moves apply
		if !slices.Contains(ok, got.Status) || len(ok) > 2 || (len(ok) == 2 && !slices.Contains(ok, order.Ready)) {
			t.Fatalf("moves applied %v, final status %s", ok, got.Status)
		}

		// parallel payment callbacks with different nonces: paid once
		o3 := s.buy(t, 1)
		must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: o3.ID, Provider: "dev", Intent: "pi_race", AmountFen: o3.TotalFen}))
		var wg sync.WaitGroup
		var mu sync.Mutex
		paid := 0
		for i := range 10 {
			wg.Go(func() {
				_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_race", AmountFen: o3.TotalFen, Nonce: fmt.Sprintf("race-%d", i)}, "dev", db.Now())
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					paid++
				case apperr.Is(err, "replayed_callback"):
				default:
					t.Errorf("ApplyPaid: %v", err)
				}
			})
		}
		wg.Wait()
		if paid != 1 {
			t.Fatalf("paid %d times", paid)
		}
		checkStock(t, db)
	})
}

// TestContractConcurrentIdempotency: one request sent ten times at once
// makes one order and reserves once; every caller gets that order.
func TestContractConcurrentIdempotency(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 100)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[int64]int{}
		created := 0
		for range 10 {
			wg.Go(func() {
				o := s.newOrder("same-key", "same-hash")
				c, err := s.orders.Create(ctx, o, []order.Item{{SKUID: s.sku, Quantity: 3}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				ids[o.ID]++
				if c {
					created++
				}
			})
		}
		wg.Wait()
		if len(ids) != 1 || created != 1 {
			t.Fatalf("orders %v, created %d", ids, created)
		}
		if lv := s.level(t, s.store, lot); lv.Reserved != 3 {
			t.Fatalf("reserved %d, want 3", lv.Reserved)
		}
		checkStock(t, db)
	})
}

// TestContractTranslate: driver errors reach callers as application errors
// with the same codes on both databases.
func TestContractTranslate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		lot := s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 1)
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE stock SET reserved = 5 WHERE lot_id = ?`, lot)
			return err
		})
		wantCode(t, err, "constraint")
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO merchants (slug, name, created_at) VALUES (?, ?, ?)`, "farm", "x", 1)
			return err
		})
		wantCode(t, err, "conflict")
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.Conflict {
			t.Fatalf("kind of %v", err)
		}
	})
}

// TestOpenPostgresURL: pool parameters are read and removed, bad values are
// refused, and errors never show the password.
func TestOpenPostgresURL(t *testing.T) {
	ctx := context.Background()
	_, err := sqldb.Open(ctx, "postgres://u:s3cret@127.0.0.1:5432/x?pool_max_conns=1", "")
	if err == nil || !strings.Contains(err.Error(), "pool_max_conns") {
		t.Fatalf("pool_max_conns=1: %v", err)
	}
	// nothing listens on port 1
	_, err = sqldb.Open(ctx, "postgresql://u:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("unreachable server: %v", err)
	}
	_, err = sqldb.Open(ctx, "mysql://u:s3cret@127.0.0.1/x", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("unsupported scheme: %v", err)
	}
	if os.Getenv(postgresEnv) == "" {
		return
	}
	u, _ := newPostgresSchema(t)
	db, err := sqldb.Open(ctx, u+"&pool_max_conns=3&pool_max_read_conns=2", "")
	must(t, err)
	defer db.Close()
	w, r := db.Stats()
	if w.MaxOpenConnections != 3 || r.MaxOpenConnections != 2 {
		t.Fatalf("pool sizes %d/%d, want 3/2", w.MaxOpenConnections, r.MaxOpenConnections)
	}
	if db.Dialect != sqldb.Postgres {
		t.Fatalf("dialect %s", db.Dialect)
	}
}

// TestContractLease: of several nodes asking at once, one holds the lease;
// it renews, others see its address; after expiry or release another node
// takes over.
func TestContractLease(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return t0 }
		var wg sync.WaitGroup
		var mu sync.Mutex
		var holders []string
		addrs := map[string]bool{}
		for i := range 8 {
			wg.Go(func() {
				node := fmt.Sprintf("node-%d", i)
				ok, addr, err := db.AcquireLease(ctx, sqldb.LeaderLease, node, node+":8080", 10*time.Second)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("acquire: %v", err)
					return
				}
				if ok {
					holders = append(holders, node)
				}
				addrs[addr] = true
			})
		}
		wg.Wait()
		if len(holders) != 1 || len(addrs) != 1 || !addrs[holders[0]+":8080"] {
			t.Fatalf("holders %v, addresses seen %v", holders, addrs)
		}
		leader := holders[0]
		other := "node-x"
		if ok, _, err := db.AcquireLease(ctx, sqldb.LeaderLease, leader, leader+":8080", 10*time.Second); err != nil || !ok {
			t.Fatalf("renew: %v %v", ok, err)
		}
		db.Now = func() time.Time { return t0.Add(5 * time.Second) }
		if ok, addr, err := db.AcquireLease(ctx, sqldb.LeaderLease, other, "x:1", 10*time.Second); err != nil || ok || addr != leader+":8080" {
			t.Fatalf("took a live lease: %v %q %v", ok, addr, err)
		}
		db.Now = func() time.Time { return t0.Add(11 * time.Second) }
		if ok, _, err := db.AcquireLease(ctx, sqldb.LeaderLease, other, "x:1", 10*time.Second); err != nil || !ok {
			t.Fatalf("expired lease not taken over: %v %v", ok, err)
		}
		must(t, db.ReleaseLease(ctx, sqldb.LeaderLease, leader)) // not the holder: no effect
		if ok, _, _ := db.AcquireLease(ctx, sqldb.LeaderLease, leader, "", 10*time.Second); ok {
			t.Fatal("old leader took the lease back while it was held")
		}
		must(t, db.ReleaseLease(ctx, sqldb.LeaderLease, other))
		if ok, _, err := db.AcquireLease(ctx, sqldb.LeaderLease, leader, "", 10*time.Second); err != nil || !ok {
			t.Fatalf("released lease not taken: %v %v", ok, err)
		}
	})
}

// TestContractConcurrentFirstWrites: first writes that create a row (stock
// of a lot in a store, a lot's public trace code) succeed for every
// concurrent caller and leave one row.
func TestContractConcurrentFirstWrites(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		now := db.Now()
		l := &inventory.Lot{MerchantID: s.m, SKUID: s.sku, Code: "NEW", ProducedAt: now.Add(-time.Hour), ExpiresAt: now.Add(48 * time.Hour)}
		must(t, s.inv.CreateLot(ctx, l))
		cc := &sqldb.ColdChainStore{DB: db}
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]bool{}
		for i := range 10 {
			wg.Go(func() {
				if err := s.inv.SetStock(ctx, s.m, s.store, l.ID, int64(10+i)); err != nil {
					t.Errorf("set stock: %v", err)
				}
				code, err := cc.PublicCode(ctx, s.m, l.ID)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("public code: %v", err)
					return
				}
				codes[code] = true
			})
		}
		wg.Wait()
		if lv := s.level(t, s.store, l.ID); lv.OnHand < 10 || lv.OnHand > 19 {
			t.Fatalf("level %+v", lv)
		}
		if n := count(t, db, `SELECT count(*) FROM stock WHERE lot_id = ?`, l.ID); n != 1 {
			t.Fatalf("%d stock rows", n)
		}
		if len(codes) != 1 {
			t.Fatalf("codes %v", codes)
		}
	})
}

// waitBlocked polls until some backend waits for a lock held by pid.
func waitBlocked(t testing.TB, db *sqldb.DB, pid int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for count(t, db, `SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))`, pid) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing waited for the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestContractPayWhileCancelled (PostgreSQL): a payment callback arrives
// while staff cancel the order. It waits for the cancel and then answers
// paid_too_late (kept and refunded), as it does on SQLite, where the two
// run one after the other.
func TestContractPayWhileCancelled(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " not set: the interleaving needs concurrent writers")
	}
	t.Parallel()
	db := mustOpenDB(t, sqldb.Postgres)
	ctx := context.Background()
	s := newShop(t, db)
	s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 10)
	o := s.buy(t, 1)
	must(t, s.orders.CreateIntent(ctx, &payment.Intent{MerchantID: s.m, OrderID: o.ID, Provider: "dev", Intent: "pi_c", AmountFen: o.TotalFen}))
	locked := make(chan int64)
	release := make(chan struct{})
	cancelErr := make(chan error, 1)
	go func() {
		cancelErr <- db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var pid int64
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid() FROM orders WHERE id = ? FOR UPDATE`, o.ID).Scan(&pid); err != nil {
				return err
			}
			locked <- pid
			<-release
			_, err := tx.Exec(ctx, `UPDATE orders SET status = 'cancelled', cancelled_at = ? WHERE id = ?`, db.Now().UnixMilli(), o.ID)
			return err
		})
	}()
	pid := <-locked
	paid := make(chan error, 1)
	go func() {
		_, err := s.orders.ApplyPaid(ctx, &payment.Notification{Intent: "pi_c", AmountFen: o.TotalFen, Nonce: "nc"}, "dev", db.Now())
		paid <- err
	}()
	waitBlocked(t, db, pid)
	close(release)
	must(t, <-cancelErr)
	wantTooLate(t, <-paid)
	in, err := s.orders.IntentByID(ctx, "pi_c")
	must(t, err)
	if in.Status != "refunded" {
		t.Fatalf("intent %s", in.Status)
	}
}

// TestContractDeadlockIsBusyRetry (PostgreSQL): a deadlock between two
// write transactions reaches the loser as busy_retry (HTTP 429, safe to
// retry), matched by SQLSTATE 40P01; the winner commits.
func TestContractDeadlockIsBusyRetry(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " not set: SQLite has one writer and cannot deadlock")
	}
	t.Parallel()
	db := mustOpenDB(t, sqldb.Postgres)
	ctx := context.Background()
	s := newShop(t, db)
	first := make(chan struct{}, 2)
	errs := make(chan error, 2)
	lockBoth := func(a, b int64) {
		errs <- db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE merchants SET name = name WHERE id = ?`, a); err != nil {
				return err
			}
			first <- struct{}{}
			for len(first) < 2 { // both hold their first row
				time.Sleep(time.Millisecond)
			}
			_, err := tx.Exec(ctx, `UPDATE merchants SET name = name WHERE id = ?`, b)
			return err
		})
	}
	go lockBoth(s.m, s.other)
	go lockBoth(s.other, s.m)
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("want one winner and one loser: %v / %v", e1, e2)
	}
	lost := e1
	if lost == nil {
		lost = e2
	}
	wantCode(t, lost, "busy_retry")
	var ae *apperr.Error
	if !errors.As(lost, &ae) || ae.Kind != apperr.TooMany {
		t.Fatalf("kind of %v", lost)
	}
}

// TestContractConcurrentLineups: staff saving a room's lineup at the same
// time all succeed and the room ends with one of the lineups, whole.
func TestContractConcurrentLineups(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		r := &live.Room{MerchantID: s.m, Slug: "lineup", Title: "上新"}
		must(t, s.live.CreateRoom(ctx, r))
		var pids []int64
		for i := range 4 {
			p := &catalog.Product{MerchantID: s.m, Name: fmt.Sprintf("P%d", i), Active: true, SKUs: []catalog.SKU{{Code: fmt.Sprintf("L%d", i), Name: "x", PriceFen: 1, Active: true}}}
			must(t, s.cat.CreateProduct(ctx, p))
			pids = append(pids, p.ID)
		}
		lineups := [][]int64{{pids[0], pids[1], pids[2]}, {pids[3], pids[2]}, {pids[1]}, {pids[2], pids[0], pids[3], pids[1]}}
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				if err := s.live.SetLineup(ctx, s.m, r.ID, lineups[i%len(lineups)]); err != nil {
					t.Errorf("set lineup: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := s.live.Room(ctx, s.m, r.ID)
		must(t, err)
		if !slices.ContainsFunc(lineups, func(l []int64) bool { return slices.Equal(l, got.ProductIDs) }) {
			t.Fatalf("lineup %v is none of the saved ones", got.ProductIDs)
		}
	})
}

// TestContractClusterSecret: nodes asking at once for a new secret all get
// the same one, 32 random bytes; another name is another secret.
func TestContractClusterSecret(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		got := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := db.ClusterSecret(ctx, "forward")
				if err != nil {
					t.Error(err)
				}
				got[i] = k
			}()
		}
		wg.Wait()
		for _, k := range got {
			if len(k) != 32 || !bytes.Equal(k, got[0]) {
				t.Fatalf("secrets differ or are not 32 bytes: %x vs %x", k, got[0])
			}
		}
		other, err := db.ClusterSecret(ctx, "other")
		must(t, err)
		if bytes.Equal(other, got[0]) {
			t.Fatal("two names share one secret")
		}
	})
}

// TestContractCreateProducts: an import is all or nothing — a SKU code that
// is already taken leaves every other product of the import uncreated.
func TestContractCreateProducts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		taken := &catalog.Product{MerchantID: s.m, Name: "草莓", SKUs: []catalog.SKU{{Code: "taken-1", Name: "500g", PriceFen: 990}}}
		must(t, s.cat.CreateProduct(ctx, taken))
		dup := &catalog.Product{MerchantID: s.m, Name: "蓝莓", SKUs: []catalog.SKU{{Code: "taken-1", Name: "x", PriceFen: 1}}}
		before, err := s.cat.ListProducts(ctx, s.m)
		must(t, err)
		fresh := &catalog.Product{MerchantID: s.m, Name: "桑葚", SKUs: []catalog.SKU{{Code: "mulberry-1", Name: "250g", PriceFen: 1990}}}
		wantCode(t, s.cat.CreateProducts(ctx, []*catalog.Product{fresh, dup}), "conflict")
		after, err := s.cat.ListProducts(ctx, s.m)
		must(t, err)
		if len(after) != len(before) || fresh.ID != 0 {
			t.Fatalf("a refused import created %d products (id %d)", len(after)-len(before), fresh.ID)
		}
		must(t, s.cat.CreateProducts(ctx, []*catalog.Product{fresh}))
		if fresh.ID == 0 || fresh.SKUs[0].ID == 0 {
			t.Fatalf("created product without ids: %+v", fresh)
		}
	})
}

// TestContractImportStock: a stock count creates missing lots and sets
// on-hand per store, all or nothing; a row naming another tenant's SKU or
// store, a lot with another expiry, or a level below what is reserved fails
// the whole count and changes nothing.
func TestContractImportStock(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		now := db.Now()
		exp := now.Add(72 * time.Hour).Truncate(time.Second)
		row := func(n int, sku, store, lot string, onHand int64) inventory.StockRow {
			return inventory.StockRow{Row: n, SKUCode: sku, Store: store, LotCode: lot, ProducedAt: now.Add(-time.Hour).Truncate(time.Second), ExpiresAt: exp, OnHand: onHand}
		}
		levels := func() map[string]int64 {
			ls, err := s.inv.Levels(ctx, s.m, 0)
			must(t, err)
			out := map[string]int64{}
			for _, l := range ls {
				out[fmt.Sprintf("%s@%d", l.LotCode, l.StoreID)] = l.OnHand
			}
			return out
		}
		created, err := s.inv.ImportStock(ctx, s.m, []inventory.StockRow{
			row(2, "farm-500", "徐汇店", "L-A", 10),
			row(3, "farm-500", strconv.FormatInt(s.shipper, 10), "L-A", 4), // the same lot in a second store, by id
			func() inventory.StockRow {
				r := row(4, "farm-500", "徐汇店", "L-B", 6)
				r.ExpiresAt = exp.Add(-24 * time.Hour)
				return r
			}(), // sells first (FEFO)
		})
		must(t, err)
		got := levels()
		if created != 2 || got[fmt.Sprintf("L-A@%d", s.store)] != 10 || got[fmt.Sprintf("L-A@%d", s.shipper)] != 4 || got[fmt.Sprintf("L-B@%d", s.store)] != 6 {
			t.Fatalf("created %d lots, levels %v", created, got)
		}
		// An order reserves 3 of L-B (it expires first), so a recount below that is refused.
		s.buy(t, 3)
		before := levels()
		for name, c := range map[string]struct {
			rows      []inventory.StockRow
			code, fld string
		}{
			"OtherTenantSKU":   {[]inventory.StockRow{row(2, "farm-500", "徐汇店", "L-A", 11), row(3, "rival-500", "徐汇店", "L-X", 1)}, "unknown_sku", "row 3: sku_code"},
			"UnknownStore":     {[]inventory.StockRow{row(2, "farm-500", "徐汇店", "L-A", 11), row(3, "farm-500", "火星店", "L-A", 1)}, "unknown_store", "row 3: store"},
			"OtherTenantStore": {[]inventory.StockRow{row(2, "farm-500", strconv.FormatInt(s.otherStore, 10), "L-A", 1)}, "unknown_store", "row 2: store"},
			"OtherExpiry": {[]inventory.StockRow{row(2, "farm-500", "徐汇店", "L-C", 1), func() inventory.StockRow {
				r := row(3, "farm-500", "徐汇店", "L-A", 1)
				r.ExpiresAt = exp.Add(24 * time.Hour)
				return r
			}()}, "lot_mismatch", "row 3: expires"},
			"BelowReserved": {[]inventory.StockRow{row(2, "farm-500", "徐汇店", "L-C", 1), func() inventory.StockRow {
				r := row(3, "farm-500", "徐汇店", "L-B", 2)
				r.ExpiresAt = exp.Add(-24 * time.Hour)
				return r
			}()}, "below_reserved", ""},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.inv.ImportStock(ctx, s.m, c.rows)
				wantCode(t, err, c.code)
				if c.fld != "" && apperr.As(err).Field != c.fld {
					t.Fatalf("field %q, want %q", apperr.As(err).Field, c.fld)
				}
				after := levels()
				if len(after) != len(before) {
					t.Fatalf("a refused count changed the levels: %v → %v", before, after)
				}
				for k, v := range before {
					if after[k] != v {
						t.Fatalf("a refused count changed %s: %d → %d", k, v, after[k])
					}
				}
				lots, err := s.inv.ListLots(ctx, s.m, s.sku)
				must(t, err)
				for _, l := range lots {
					if l.Code == "L-C" {
						t.Fatal("a refused count created lot L-C")
					}
				}
			})
		}
		must(t, db.VerifyStock(ctx))
	})
}

// TestContractGuideSales: orders are summed per attribution code within the
// window, named after the guide who has the code; only paid (and later)
// orders count as revenue, net of refunds; other tenants' orders never show.
func TestContractGuideSales(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		s.lot(t, s.m, s.sku, s.store, "L", 48*time.Hour, 50)
		s.lot(t, s.other, s.otherSKU, s.otherStore, "L", 48*time.Hour, 50)
		must(t, s.ids.CreateStaff(ctx, &identity.Staff{MerchantID: s.m, Username: "wang", Name: "王导购", Role: identity.RoleGuide, StoreID: s.store, GuideCode: "wang01", PasswordHash: "h"}))
		realNow := db.Now
		t0 := realNow()
		place := func(merchant, cust, sku, store int64, code string, qty int64, at time.Time) *order.Order {
			db.Now = func() time.Time { return at }
			defer func() { db.Now = realNow }()
			o := &order.Order{MerchantID: merchant, CustomerID: cust, Fulfilment: order.Pickup, StoreID: store, GuideCode: code, ReserveExpiresAt: at.Add(time.Hour)}
			created, err := s.orders.Create(ctx, o, []order.Item{{SKUID: sku, Quantity: qty}})
			must(t, err)
			if !created {
				t.Fatal("order not created")
			}
			return o
		}
		paid := place(s.m, s.cust, s.sku, s.store, "wang01", 2, t0)
		_, err := s.orders.Transition(ctx, s.m, paid.ID, order.Paid)
		must(t, err)
		place(s.m, s.cust, s.sku, s.store, "wang01", 1, t0)                       // unpaid: counted, no revenue
		place(s.m, s.cust, s.sku, s.store, "gone", 1, t0)                         // a code no staff member has any more
		place(s.m, s.cust, s.sku, s.store, "", 1, t0)                             // no attribution
		place(s.m, s.cust, s.sku, s.store, "wang01", 1, t0.Add(-40*24*time.Hour)) // before the window
		place(s.other, s.otherCust, s.otherSKU, s.otherStore, "wang01", 3, t0)    // another tenant, same code
		got, err := s.orders.GuideSales(ctx, s.m, t0.Add(-30*24*time.Hour), t0.Add(time.Hour))
		must(t, err)
		if len(got) != 2 {
			t.Fatalf("rows %+v", got)
		}
		w := got[0]
		if w.GuideCode != "wang01" || w.GuideName != "王导购" || w.StoreID != s.store || w.Orders != 2 || w.PaidOrders != 1 || w.RevenueFen != paid.TotalFen {
			t.Fatalf("wang01: %+v (paid order total %d)", w, paid.TotalFen)
		}
		if g := got[1]; g.GuideCode != "gone" || g.GuideName != "" || g.Orders != 1 || g.PaidOrders != 0 || g.RevenueFen != 0 {
			t.Fatalf("gone: %+v", g)
		}
	})
}
