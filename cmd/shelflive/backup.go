package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/sqldb"
)

// runBackup writes a consistent copy of the SQLite database (safe while the
// server runs). Uploads and recordings are files to copy with any tool: the
// data dir's uploads/ and video/, or the bucket of SHELFLIVE_S3_URL (back it
// up with the object store's own tools, e.g. bucket versioning or mc mirror).
func runBackup(ctx context.Context, args []string) error {
	c, err := node.ParseConfig("backup", args)
	if err != nil {
		return err
	}
	out := "shelflive-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	if len(c.Args) == 1 {
		out = c.Args[0]
	} else if len(c.Args) > 1 {
		return fmt.Errorf("backup: usage: shelflive backup [-data-dir DIR] [FILE]")
	}
	db, err := sqldb.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, out); err != nil {
		return err
	}
	fmt.Println("backup written to", out)
	if c.S3URL != "" {
		fmt.Println("uploads and recordings are in the object store (SHELFLIVE_S3_URL): back the bucket up with its own tools")
	} else {
		fmt.Println("uploads and recordings are files: copy", filepath.Join(c.DataDir, "uploads"), "and", filepath.Join(c.DataDir, "video"), "with the database")
	}
	return nil
}

// runRestore replaces the data dir's database with a backup: refused while
// a server runs on the data dir, after checking the backup, keeping the old
// database aside until the new one opens (sqldb.Restore).
func runRestore(ctx context.Context, args []string) error {
	c, err := node.ParseConfig("restore", args)
	if err != nil {
		return err
	}
	rest := c.Args
	if len(rest) != 1 {
		return fmt.Errorf("restore: usage: shelflive restore [-data-dir DIR] BACKUP.db")
	}
	if c.DatabaseURL != "" {
		return fmt.Errorf("restore: use pg_restore for PostgreSQL")
	}
	if err := sqldb.Restore(ctx, rest[0], c.DataDir); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "restored", rest[0], "into", c.DataDir)
	return nil
}
