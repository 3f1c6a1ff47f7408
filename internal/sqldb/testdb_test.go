package sqldb_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// postgresEnv names the variable that turns on the PostgreSQL half of the
// contract suite, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it is set
// and the server cannot be reached, the tests fail: CI sets it on purpose.
const postgresEnv = "SHELFLIVE_TEST_POSTGRES"

// dialects lists the databases the contract suite runs against here.
func dialects() []sqldb.Dialect {
	if os.Getenv(postgresEnv) != "" {
		return []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres}
	}
	return []sqldb.Dialect{sqldb.SQLite}
}

// forEachDB runs fn as a subtest per dialect ("sqlite", "postgres"), each
// with a fresh, migrated, empty database.
//
// Contract tests run in parallel with each other (each has its own
// databases): most of their time is spent waiting on commits.
func forEachDB(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Parallel()
	for _, d := range dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, mustOpenDB(t, d))
		})
	}
}

// mustOpenDB opens a fresh database of the dialect, closed and removed when
// the test ends: SQLite in a temp dir, PostgreSQL in a new schema t_<random>
// of the database named by SHELFLIVE_TEST_POSTGRES (dropped at the end).
func mustOpenDB(tb testing.TB, d sqldb.Dialect) *sqldb.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if d == sqldb.SQLite {
		db, err := sqldb.Open(ctx, "", tb.TempDir())
		if err != nil {
			tb.Fatalf("open sqlite: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	}
	u, schema := newPostgresSchema(tb)
	db, err := sqldb.Open(ctx, u, "")
	if err != nil {
		tb.Fatalf("open postgres (schema %s): %v", schema, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// newPostgresSchema creates an empty schema and returns a URL whose
// search_path points at it. The schema is dropped when the test ends.
func newPostgresSchema(tb testing.TB) (string, string) {
	tb.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		tb.Fatalf("%s is not set", postgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", postgresEnv, err)
	}
	// the admin connection is plain pgx: drop the adapter's own parameters
	au := *u
	aq := au.Query()
	aq.Del("pool_max_conns")
	aq.Del("pool_max_read_conns")
	au.RawQuery = aq.Encode()
	admin, err := sql.Open("pgx", au.String())
	if err != nil {
		tb.Fatalf("%s: %v", postgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		tb.Fatalf("%s is set but PostgreSQL is unreachable: %v", postgresEnv, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	// CI runs other packages' PostgreSQL tests (several nodes each) at the
	// same time: keep this package's connections well under
	// max_connections. Benchmarks use the production pool sizes.
	if _, bench := tb.(*testing.B); !bench && q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "8")
		q.Set("pool_max_read_conns", "4")
	}
	u.RawQuery = q.Encode()
	return u.String(), schema
}
