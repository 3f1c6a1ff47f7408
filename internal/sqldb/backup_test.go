package sqldb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/sqldb"
)

// Tests for the hostile review's finding 5: `shelflive restore` lost data
// when a server was running, and replaced a good database with garbage.

// storeCount is how many stores the database in dir holds.
func storeCount(t *testing.T, dir string) int64 {
	t.Helper()
	db, err := sqldb.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return count(t, db, `SELECT count(*) FROM stores`)
}

// seeded opens a data dir with n stores and returns a backup of it.
func seeded(t *testing.T, dir string, n int) (backup string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newShop(t, db)
	_ = s
	for range n {
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO stores (merchant_id, name, address, lat, lng, created_at) VALUES (?, 'x', 'y', 31.2, 121.4, 0)`, s.m)
			return err
		}))
	}
	backup = filepath.Join(t.TempDir(), "b.db")
	must(t, db.Backup(ctx, backup))
	return backup
}

func TestRestoreRefusedWhileServing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	backup := seeded(t, dir, 1)
	before := storeCount(t, dir)
	lock, err := sqldb.LockDataDir(dir, false) // what a running node holds
	must(t, err)
	db, err := sqldb.Open(ctx, "", dir)
	must(t, err)
	err = sqldb.Restore(ctx, backup, dir)
	if !errors.Is(err, sqldb.ErrDataDirInUse) {
		t.Fatalf("restore while a server runs: %v, want ErrDataDirInUse", err)
	}
	db.Close()
	lock.Unlock()
	if got := storeCount(t, dir); got != before {
		t.Fatalf("stores %d → %d after a refused restore", before, got)
	}
	// Stopped: the same restore goes through.
	must(t, sqldb.Restore(ctx, backup, dir))
}

func TestRestoreChecksTheBackupFirst(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	seeded(t, dir, 3)
	before := storeCount(t, dir)
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	must(t, os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o600))
	empty := filepath.Join(t.TempDir(), "empty.db")
	edb, err := sqldb.OpenSQLite(ctx, empty)
	must(t, err)
	must(t, edb.WriteTx(ctx, func(tx *sqldb.Tx) error { _, err := tx.Exec(ctx, `DELETE FROM schema_migrations`); return err }))
	edb.Close()
	newer := seeded(t, t.TempDir(), 0)
	ndb, err := sqldb.OpenSQLite(ctx, newer)
	must(t, err)
	must(t, ndb.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future.sql', 0)`)
		return err
	}))
	ndb.Close()
	for name, src := range map[string]string{"garbage": garbage, "no schema version": empty, "newer schema": newer, "missing": filepath.Join(dir, "nope.db")} {
		if err := sqldb.Restore(ctx, src, dir); err == nil {
			t.Errorf("restore of %s succeeded", name)
		}
		if got := storeCount(t, dir); got != before {
			t.Fatalf("restore of %s changed the database: stores %d → %d", name, before, got)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "shelflive.db.*")); len(leftovers) != 0 {
		t.Fatalf("refused restores left files: %v", leftovers)
	}
}

// TestRestoreKeepsTheOldUntilTheNewOpens: a backup that passes the checks
// but does not open (a migration it lacks fails on it) leaves the old
// database in place.
func TestRestoreKeepsTheOldUntilTheNewOpens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	seeded(t, dir, 2)
	before := storeCount(t, dir)
	bad := seeded(t, t.TempDir(), 0)
	bdb, err := sqldb.OpenSQLite(ctx, bad)
	must(t, err)
	must(t, bdb.WriteTx(ctx, func(tx *sqldb.Tx) error {
		// Forget the first migration: opening re-runs it on tables that exist.
		_, err := tx.Exec(ctx, `DELETE FROM schema_migrations WHERE name = (SELECT min(name) FROM schema_migrations)`)
		return err
	}))
	bdb.Close()
	if err := sqldb.Restore(ctx, bad, dir); err == nil || !strings.Contains(err.Error(), "old one is back") {
		t.Fatalf("restore of a backup that does not open: %v", err)
	}
	if got := storeCount(t, dir); got != before {
		t.Fatalf("stores %d → %d: the old database was not put back", before, got)
	}
}

func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	backup := seeded(t, dir, 1)
	for _, p := range []string{filepath.Join(dir, "shelflive.db"), filepath.Join(dir, "shelflive.db-wal"), backup} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(p, "-wal") {
			continue // checkpointed and truncated away
		}
		must(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	must(t, sqldb.Restore(context.Background(), backup, dir))
	fi, err := os.Stat(filepath.Join(dir, "shelflive.db"))
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("restored database is %v, want 0600", fi.Mode().Perm())
	}
}
