package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Backup writes a consistent copy of the SQLite database to dst while the
// server keeps running (VACUUM INTO reads one snapshot of the WAL database).
// The copy is created 0600: it holds buyers' contact data and session
// hashes. PostgreSQL is backed up with pg_dump instead (docs/DEPLOY.md).
func (db *DB) Backup(ctx context.Context, dst string) error {
	if db.Dialect != SQLite {
		return fmt.Errorf("backup: use pg_dump for PostgreSQL")
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO writes into an empty file; creating it first sets its mode.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s exists", dst)
		}
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	// A connection of its own: the reader pool is query-only and the writer
	// must keep serving orders meanwhile.
	conn, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("backup: %w", err)
	}
	return os.Chmod(dst, 0o600)
}

// CheckBackup opens src read-only and checks that it is a sound ShelfLive
// database this binary can run: PRAGMA integrity_check answers "ok", and
// every migration it records is one this binary knows (a backup of a newer
// version is refused; an older one is brought up to date when opened).
func CheckBackup(ctx context.Context, src string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	conn, err := sql.Open("sqlite", "file:"+src+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer conn.Close()
	var ok string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil {
		return fmt.Errorf("restore: %s is not a readable SQLite database: %w", src, err)
	}
	if ok != "ok" {
		return fmt.Errorf("restore: %s fails the integrity check: %s", src, ok)
	}
	known := map[string]bool{}
	entries, err := fs.ReadDir(migrationsFS, "migrations/"+string(SQLite))
	if err != nil {
		return err
	}
	for _, e := range entries {
		known[e.Name()] = true
	}
	rows, err := conn.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("restore: %s is not a ShelfLive database (no schema version): %w", src, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		n++
		if !known[name] {
			return fmt.Errorf("restore: %s was written by a newer ShelfLive (migration %s is unknown to this binary)", src, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("restore: %s is not a ShelfLive database (no migrations recorded)", src)
	}
	return nil
}

// Restore replaces the data dir's database with the backup src, safely:
// it refuses while a server holds the data dir (LockDataDir), checks the
// backup before touching anything (CheckBackup), moves the old database
// and its WAL aside instead of deleting them, and puts them back unless the
// restored database opens (migrations included). The old copy is removed
// only once the new one is open.
func Restore(ctx context.Context, src, dataDir string) error {
	lock, err := LockDataDir(dataDir, true)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer lock.Unlock()
	if err := CheckBackup(ctx, src); err != nil {
		return err
	}
	path := filepath.Join(dataDir, "shelflive.db")
	tmp := path + ".restore"
	if err := copyFile(src, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	aside := path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
	var moved []string
	for _, ext := range []string{"", "-wal", "-shm"} {
		err := os.Rename(path+ext, aside+ext)
		if err == nil {
			moved = append(moved, ext)
		} else if !errors.Is(err, fs.ErrNotExist) {
			putBack(path, aside, moved)
			os.Remove(tmp)
			return fmt.Errorf("restore: keep the old database aside: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		putBack(path, aside, moved)
		return fmt.Errorf("restore: %w", err)
	}
	db, err := OpenSQLite(ctx, path)
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		for _, ext := range []string{"", "-wal", "-shm"} {
			os.Remove(path + ext)
		}
		putBack(path, aside, moved)
		return fmt.Errorf("restore: the restored database does not open; the old one is back: %w", err)
	}
	for _, ext := range moved {
		os.Remove(aside + ext)
	}
	return nil
}

func putBack(path, aside string, moved []string) {
	for _, ext := range moved {
		os.Rename(aside+ext, path+ext)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// createPrivate makes sure the database file exists with mode 0600 before
// SQLite opens it (SQLite gives the WAL and shared-memory files the
// database file's mode), and narrows an existing one.
func createPrivate(path string) error {
	if strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, ext := range []string{"", "-wal", "-shm"} {
		if err := os.Chmod(path+ext, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
