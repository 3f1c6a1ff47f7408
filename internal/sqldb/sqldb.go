// Package sqldb is the SQL adapter for every domain store. It speaks two
// dialects: SQLite (embedded default, pure Go driver, WAL) and PostgreSQL
// (scale-out). Queries are written once with `?` placeholders and rebound for
// PostgreSQL; dialect differences stay inside this package.
package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/redact"
	_ "modernc.org/sqlite"
)

//go:embed migrations
var migrationsFS embed.FS

// Dialect names the SQL flavour behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB holds a writer pool and a reader pool. SQLite allows one writer at a
// time, so the writer pool has exactly one connection: writes queue in Go
// instead of failing with SQLITE_BUSY, and reads never wait for them (WAL).
type DB struct {
	Dialect Dialect
	Path    string // SQLite file path, for backups

	write *sql.DB
	read  *sql.DB

	// Now is the clock of every store; tests may freeze it.
	Now func() time.Time

	rebindCache sync.Map
	writeStmts  stmtCache
	readStmts   stmtCache
	group       *committer // SQLite: write transactions commit in groups

	ckpt               *sql.DB // SQLite: background WAL checkpoints
	ckptStop, ckptDone chan struct{}
}

// stmtCache keeps prepared statements by query text. SQLite spends most of
// a small statement's time parsing it, so preparing each query once roughly
// doubles the write path's throughput. Queries are constants (plus a few
// IN-lists of bounded length), so the cache stays small; it stops growing
// at maxCachedStmts anyway.
type stmtCache struct {
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // seen inside a transaction, to prepare once the writer is free
}

// lookup returns a cached statement without preparing. A write transaction
// holds SQLite's only writer connection, so preparing inside it would wait
// for itself; the query is remembered and prepared after commit instead.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if len(c.m)+len(c.pending) < maxCachedStmts {
		if c.pending == nil {
			c.pending = map[string]bool{}
		}
		c.pending[q] = true
	}
	return nil
}

// preparePending prepares the queries lookup remembered. It runs outside any
// transaction.
func (c *stmtCache) preparePending(ctx context.Context, pool *sql.DB) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for q := range pending {
		c.get(ctx, pool, q)
	}
}

const maxCachedStmts = 512

func (c *stmtCache) get(ctx context.Context, pool *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	if full {
		return nil, nil
	}
	// Prepare without holding the lock: it may wait for a pool connection
	// that a transaction holds while it looks up statements.
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok { // prepared meanwhile by another goroutine
		st.Close()
		return old, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// Open opens (creating if needed) the database and runs pending migrations.
// An empty url means SQLite in dataDir/shelflive.db.
func Open(ctx context.Context, url, dataDir string) (*DB, error) {
	if IsPostgresURL(url) {
		return OpenPostgres(ctx, url)
	}
	if url != "" && !strings.HasPrefix(url, "sqlite:") {
		return nil, fmt.Errorf("open: unsupported database url %q (use empty for SQLite, or postgres://…)", redact.URL(url))
	}
	path := strings.TrimPrefix(url, "sqlite:")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("open: %w", err)
		}
		path = filepath.Join(dataDir, "shelflive.db")
	}
	return OpenSQLite(ctx, path)
}

// OpenSQLite opens a SQLite database file with the pragmas ShelfLive relies on.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	// synchronous=NORMAL in WAL mode survives a process crash (kill -9): a
	// committed transaction is in the WAL file before COMMIT returns. Only an
	// OS crash or power loss can lose the last commits.
	//
	// wal_autocheckpoint(0): the commit that crosses the WAL size threshold
	// would otherwise copy the WAL into the database and fsync it, stalling
	// every queued writer for a few hundred milliseconds (the p99 of order
	// creation). A background checkpointer on its own connection does it.
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	db := &DB{Dialect: SQLite, Path: path, write: w, read: r, Now: func() time.Time { return time.Now().UTC() }}
	db.group = &committer{db: db, queue: make(chan *writeReq, 1024)}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.startCheckpointer(path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// startCheckpointer copies the WAL into the database file in the
// background (PASSIVE: it never blocks writers or readers), twice a second.
func (db *DB) startCheckpointer(path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	c.SetMaxOpenConns(1)
	db.ckpt, db.ckptStop, db.ckptDone = c, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.ckptDone)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-db.ckptStop:
				c.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
				return
			case <-t.C:
				c.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.ckptStop != nil {
		close(db.ckptStop)
		<-db.ckptDone
		db.ckpt.Close()
		db.ckptStop = nil
	}
	db.readStmts.close()
	db.writeStmts.close()
	return errors.Join(db.read.Close(), db.write.Close())
}

// Ping checks the database answers, for readiness.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// ReadDB returns the reader pool for queries outside a transaction.
func (db *DB) ReadDB() *sql.DB { return db.read }

// Tx is a write transaction with the dialect's placeholder style, a frozen
// clock and hooks that run only after a successful commit (publishing events
// for rows that might still roll back would tell viewers lies).
type Tx struct {
	*sql.Tx
	db       *DB
	Now      time.Time
	onCommit []func()
}

// OnCommit registers fn to run after the transaction commits.
func (tx *Tx) OnCommit(fn func()) { tx.onCommit = append(tx.onCommit, fn) }

// stmt returns the prepared form of query bound to this transaction, or nil
// when it cannot be cached (the caller then runs the text).
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.db.Dialect != SQLite {
		return nil // pgx caches statements per connection itself (and PgBouncer dislikes named ones)
	}
	st := tx.db.writeStmts.lookup(query)
	if st == nil {
		return nil
	}
	return tx.Tx.StmtContext(ctx, st)
}

// Exec runs a statement written with ? placeholders.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = tx.db.rebind(query)
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// Query runs a query written with ? placeholders.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = tx.db.rebind(query)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRow runs a single-row query written with ? placeholders.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = tx.db.rebind(query)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

// InsertID runs an INSERT … RETURNING id and returns the id.
func (tx *Tx) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// WriteTx runs fn in a write transaction: commit if fn returns nil, rollback
// otherwise; commit hooks run after commit, outside the transaction.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.group != nil {
		tx, err := db.group.submit(ctx, fn)
		if err != nil {
			return err
		}
		for _, h := range tx.onCommit {
			h()
		}
		return nil
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, db: db, Now: db.Now()}
	defer db.writeStmts.preparePending(ctx, db.write)
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return translate(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	for _, h := range tx.onCommit {
		h()
	}
	return nil
}

// Query runs a read query outside a transaction.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = db.rebind(query)
	if db.Dialect != SQLite {
		return db.read.QueryContext(ctx, query, args...)
	}
	if st, err := db.readStmts.get(ctx, db.read, query); err == nil && st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, query, args...)
}

// QueryRow runs a single-row read query outside a transaction.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = db.rebind(query)
	if db.Dialect != SQLite {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	if st, err := db.readStmts.get(ctx, db.read, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, query, args...)
}

// querier is what both a Tx and the DB's reader pool offer.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// queryIDs runs a query that selects one integer column: ids (queryColumn).
func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	return queryColumn[int64](ctx, q, query, args...)
}

// queryColumn runs a query that selects one column (written with ?
// placeholders) and returns its values, scanned as T, in row order; nil
// when there are none. The rows are closed before it returns, so a caller
// inside a Tx may run its next statement at once (SQLite's writer has one
// connection); an error while reading them (rows.Err) fails the call
// rather than returning a partial list.
func queryColumn[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// rebind turns ? placeholders into $n for PostgreSQL. Queries are constants,
// so the result is cached.
func (db *DB) rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	if v, ok := db.rebindCache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	db.rebindCache.Store(q, b.String())
	return b.String()
}

// translate maps driver errors to application errors once, at the edge.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.ErrNotFound
	}
	msg := err.Error()
	var pgErr *pgconn.PgError
	pgCode := ""
	if errors.As(err, &pgErr) {
		pgCode = pgErr.Code // PostgreSQL: match the SQLSTATE, not the message
	}
	switch {
	case pgCode == "40001", pgCode == "40P01": // serialization failure, deadlock: safe to retry
		return apperr.ErrBusy.Wrap(err)
	case strings.Contains(msg, "UNIQUE constraint failed"), pgCode == "23505":
		return apperr.ErrConflict.Wrap(err)
	case strings.Contains(msg, "CHECK constraint failed"), pgCode == "23514":
		return apperr.ErrConstraint.Wrap(err)
	}
	return err
}

// migrate applies embedded migrations in name order, each in its own
// transaction, recording each one so it never runs twice. Shipped migrations
// are never edited; new ones are appended.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations/" + string(db.Dialect)
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := db.write.QueryRowContext(ctx, db.rebind(`SELECT count(*) FROM schema_migrations WHERE name = ?`), name).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationsFS.ReadFile(dir + "/" + name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = db.WriteTx(ctx, func(tx *Tx) error {
			if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, tx.Now.UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// ms converts a time to the stored unix-millisecond form.
func ms(t time.Time) int64 { return t.UTC().UnixMilli() }

// fromMS converts stored unix milliseconds back to UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS converts an optional stored time.
func nullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func optMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}
