package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/stores"
)

// BenchmarkCreateOrder measures the buy path on each database: idempotency
// check, price read, FEFO reservation with the guarded stock UPDATE, the
// order, line and allocation rows, one durable commit. 16 goroutines buy 1
// unit each of 64 SKUs in turn, so stock rows are shared but not one hot row.
//
//	go test -run '^$' -bench CreateOrder -benchtime 5s ./internal/sqldb/
//	SHELFLIVE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test …
func BenchmarkCreateOrder(b *testing.B) {
	benchOrders(b, 64)
}

// BenchmarkCreateOrderHotSKU is the flash sale: every buyer wants the same
// SKU, so every order updates the same stock row.
func BenchmarkCreateOrderHotSKU(b *testing.B) {
	benchOrders(b, 1)
}

func benchOrders(b *testing.B, nSKU int) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			if d == sqldb.Postgres && os.Getenv(postgresEnv) == "" {
				b.Skip(postgresEnv + " not set")
			}
			db := mustOpenDB(b, d)
			ctx := context.Background()
			ids, cat, inv := &sqldb.IdentityStore{DB: db}, &sqldb.CatalogStore{DB: db}, &sqldb.InventoryStore{DB: db}
			m := &identity.Merchant{Slug: "bench", Name: "bench"}
			must(b, ids.CreateMerchant(ctx, m))
			st := &stores.Store{MerchantID: m.ID, Name: "店", Address: "上海", Lat: 31.2, Lng: 121.4}
			must(b, (&sqldb.StoreRepo{DB: db}).CreateStore(ctx, st))
			now := time.Now().UTC()
			var skus []int64
			for i := range nSKU {
				p := &catalog.Product{MerchantID: m.ID, Name: fmt.Sprintf("商品 %d", i), Active: true,
					SKUs: []catalog.SKU{{Code: fmt.Sprintf("S%d", i), Name: "1份", PriceFen: 990, Active: true}}}
				must(b, cat.CreateProduct(ctx, p))
				l := &inventory.Lot{MerchantID: m.ID, SKUID: p.SKUs[0].ID, Code: "L", ProducedAt: now.Add(-time.Hour), ExpiresAt: now.Add(30 * 24 * time.Hour)}
				must(b, inv.CreateLot(ctx, l))
				must(b, inv.SetStock(ctx, m.ID, st.ID, l.ID, 10_000_000))
				skus = append(skus, p.SKUs[0].ID)
			}
			var custs []int64
			for i := range 64 {
				c, err := ids.UpsertCustomer(ctx, m.ID, fmt.Sprintf("137%08d", i))
				must(b, err)
				custs = append(custs, c.ID)
			}
			orders := &sqldb.OrderStore{DB: db}
			var seq atomic.Int64
			b.SetParallelism(8) // 16 buyers on 2 CPUs
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					o := &order.Order{MerchantID: m.ID, CustomerID: custs[i%int64(len(custs))], Fulfilment: order.Pickup, StoreID: st.ID,
						ReserveExpiresAt: now.Add(15 * time.Minute), IdempotencyKey: fmt.Sprintf("b-%d", i), RequestHash: "h"}
					if _, err := orders.Create(ctx, o, []order.Item{{SKUID: skus[i%int64(len(skus))], Quantity: 1}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
			if n := count(b, db, `SELECT count(*) FROM orders`); n != int64(b.N) {
				b.Fatalf("%d orders stored for %d creates", n, b.N)
			}
		})
	}
}
