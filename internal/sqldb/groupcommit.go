package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"sync"
)

// Group commit for SQLite. SQLite has one writer, so write transactions run
// one after another anyway; a commit (WAL frames, locks, checksums) costs
// about a quarter of a small order's write. The committer runs the write
// transactions that queued up meanwhile inside ONE database transaction,
// each in its own savepoint: a failing one rolls back to its savepoint and
// fails alone, the others commit together, and every caller returns only
// after that commit. Callers see exactly the semantics of serialized
// transactions.
type committer struct {
	db    *DB
	queue chan *writeReq
	once  sync.Once
}

type writeReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	tx   *Tx
	err  error
	done chan struct{}
}

// maxGroup bounds a group so one commit never holds many callers long.
const maxGroup = 64

func (c *committer) submit(ctx context.Context, fn func(tx *Tx) error) (*Tx, error) {
	c.once.Do(func() { go c.loop() })
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case c.queue <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	<-r.done // the group always finishes: callers wait for its commit
	return r.tx, r.err
}

func (c *committer) loop() {
	for first := range c.queue {
		group := []*writeReq{first}
	fill:
		for len(group) < maxGroup {
			select {
			case r, ok := <-c.queue:
				if !ok {
					break fill
				}
				group = append(group, r)
			default:
				break fill
			}
		}
		c.run(group)
	}
}

func (c *committer) run(group []*writeReq) {
	db := c.db
	ctx := context.Background()
	defer db.writeStmts.preparePending(ctx, db.write)
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range group {
			r.err = fmt.Errorf("begin: %w", err)
			close(r.done)
		}
		return
	}
	now := db.Now()
	ok := 0
	for i, r := range group {
		sp := "g" + strconv.Itoa(i)
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			r.err = err
			continue
		}
		r.tx = &Tx{Tx: sqlTx, db: db, Now: now}
		if err := r.ctx.Err(); err != nil {
			r.err = err
		} else if err := r.fn(r.tx); err != nil {
			r.err = translate(err)
		}
		if r.err != nil {
			if _, err := sqlTx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); err != nil {
				// the transaction is unusable: fail the whole group
				sqlTx.Rollback()
				for _, r2 := range group {
					if r2.err == nil {
						r2.err = fmt.Errorf("group commit: %w", err)
					}
					close(r2.done)
				}
				return
			}
		} else {
			ok++
		}
		sqlTx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp)
	}
	if err := sqlTx.Commit(); err != nil {
		for _, r := range group {
			if r.err == nil {
				r.err = fmt.Errorf("commit: %w", translate(err))
			}
		}
	}
	for _, r := range group {
		close(r.done)
	}
}
