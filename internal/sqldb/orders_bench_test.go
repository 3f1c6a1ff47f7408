package sqldb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// BenchmarkOrderCreateSQLite measures the write path of a buy: idempotency
// check, price lookup, FEFO reservation and the order rows, in one
// transaction on SQLite (WAL), from parallel goroutines.
func BenchmarkOrderCreateSQLite(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	users := &sqldb.IdentityStore{DB: db}
	inv := &sqldb.InventoryStore{DB: db}
	if _, err := demo.Seed(ctx, demo.Deps{Users: users, Catalog: &sqldb.CatalogStore{DB: db}, Stores: &sqldb.StoreRepo{DB: db}, Inventory: inv, Live: &sqldb.LiveStore{DB: db}, DataDir: dir, Now: time.Now()}); err != nil {
		b.Fatal(err)
	}
	lots, _ := inv.ListLots(ctx, 1, 0)
	var skus []int64
	for _, l := range lots {
		if err := inv.SetStock(ctx, 1, 1, l.ID, 10_000_000); err != nil {
			b.Fatal(err)
		}
		skus = append(skus, l.SKUID)
	}
	var customers []int64
	for i := 0; i < 64; i++ {
		c, _ := users.UpsertCustomer(ctx, 1, fmt.Sprintf("136%08d", i))
		customers = append(customers, c.ID)
	}
	store := &sqldb.OrderStore{DB: db}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			o := &order.Order{MerchantID: 1, CustomerID: customers[i%int64(len(customers))], Fulfilment: order.Pickup, StoreID: 1,
				IdempotencyKey: fmt.Sprint("k", i), RequestHash: "h", ReserveExpiresAt: time.Now().Add(time.Hour)}
			if _, err := store.Create(ctx, o, []order.Item{{SKUID: skus[i%int64(len(skus))], Quantity: 1}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
