package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the SQLite database to dst while the
// server keeps running (VACUUM INTO reads one snapshot of the WAL database).
// PostgreSQL is backed up with pg_dump instead (docs/DEPLOY.md).
func (db *DB) Backup(ctx context.Context, dst string) error {
	if db.Dialect != SQLite {
		return fmt.Errorf("backup: use pg_dump for PostgreSQL")
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("backup: %s exists", dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// A connection of its own: the reader pool is query-only and the writer
	// must keep serving orders meanwhile.
	conn, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Restore replaces the database file at path with the backup src. The
// server must be stopped; the old WAL and shared-memory files go too, so
// no stale frame is replayed over the restored file.
func Restore(src, path string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := path + ".restore"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("restore: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("restore: %w", err)
	}
	out.Close()
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + ext); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return os.Rename(tmp, path)
}
