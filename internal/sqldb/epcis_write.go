package sqldb

// Writing captured events: one eventWriter a capture job, with its side
// tables (EPCs, sensor readings, ...) inserted in batches.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/trace"
)

type writeResult int

const (
	writeStored writeResult = iota
	writeDuplicate
	writeDeclared
)

// eventWriter holds the prepared statements of one capture transaction.
// Side-table rows are buffered and written with multi-row INSERTs: one
// statement per sideBatch rows instead of one per row halves the storage
// cost of a capture.
type eventWriter struct {
	tx                *Tx
	insEvent, declare *sql.Stmt
	sides             []*sideBuffer
}

// sideBatch is how many rows one multi-row INSERT writes.
const sideBatch = 100

// sideBuffer collects rows for one side table.
type sideBuffer struct {
	head  string // INSERT INTO t (cols) VALUES
	cols  int
	rows  []any
	batch *sql.Stmt // prepared for sideBatch rows
}

func (b *sideBuffer) sql(n int) string {
	row := "(" + placeholders(b.cols) + ")"
	return b.head + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func (b *sideBuffer) add(ctx context.Context, vals ...any) error {
	b.rows = append(b.rows, vals...)
	if len(b.rows) == sideBatch*b.cols {
		if _, err := b.batch.ExecContext(ctx, b.rows...); err != nil {
			return err
		}
		b.rows = b.rows[:0]
	}
	return nil
}

func (b *sideBuffer) flush(ctx context.Context, tx *Tx) error {
	if len(b.rows) == 0 {
		return nil
	}
	_, err := tx.Tx.ExecContext(ctx, tx.db.rebind(b.sql(len(b.rows)/b.cols)), b.rows...)
	b.rows = b.rows[:0]
	return err
}

func newEventWriter(ctx context.Context, tx *Tx) (*eventWriter, error) {
	w := &eventWriter{tx: tx}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.Tx.PrepareContext(ctx, tx.db.rebind(q))
		return st
	}
	w.insEvent = prep(`INSERT INTO epcis_events (merchant_id, event_id, hash_id, event_type, event_time, record_time, action, biz_step, disposition,
		read_point, biz_location, transformation_id, has_sensor, error_declared_at, error_reason, capture_job, context, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (merchant_id, event_id) DO NOTHING RETURNING id`)
	w.declare = prep(`UPDATE epcis_events SET error_declared_at = ?, error_reason = ?, body = ?
		WHERE merchant_id = ? AND event_id = ? AND error_declared_at IS NULL`)
	for _, b := range []*sideBuffer{
		{head: `INSERT INTO epcis_event_epcs (event, merchant_id, role, epc, quantity, uom) VALUES `, cols: 6},
		{head: `INSERT INTO epcis_event_links (event, merchant_id, kind, type, ref) VALUES `, cols: 5},
		{head: `INSERT INTO epcis_sensor_reports (event, merchant_id, type, device_id, uom, value, min_value, max_value, mean_value, time) VALUES `, cols: 10},
	} {
		b.batch = prep(b.sql(sideBatch))
		w.sides = append(w.sides, b)
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return w, nil
}

// flush writes the buffered side-table rows; call before commit.
func (w *eventWriter) flush(ctx context.Context) error {
	for _, b := range w.sides {
		if err := b.flush(ctx, w.tx); err != nil {
			return err
		}
	}
	return nil
}

func (w *eventWriter) close() {
	sts := []*sql.Stmt{w.insEvent, w.declare}
	for _, b := range w.sides {
		sts = append(sts, b.batch)
	}
	for _, st := range sts {
		if st != nil {
			st.Close()
		}
	}
}

func nullF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func (w *eventWriter) write(ctx context.Context, merchantID, jobPK int64, now time.Time, ev *trace.Event) (writeResult, error) {
	var declaredAt any
	reason := ""
	if d := ev.ErrorDeclaration; d != nil {
		declaredAt, reason = ms(d.DeclarationTime), d.Reason
		// An error declaration repeats the erroneous event with the same
		// eventID: mark the stored one rather than storing it twice.
		res, err := w.declare.ExecContext(ctx, ms(d.DeclarationTime), d.Reason, string(ev.JSON), merchantID, ev.EventID)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return writeDeclared, nil
		}
	}
	var ctxJSON any
	if len(ev.Context) > 0 {
		ctxJSON = string(ev.Context)
	}
	var id int64
	err := w.insEvent.QueryRowContext(ctx, merchantID, ev.EventID, ev.HashID, ev.Type, ms(ev.EventTime), ms(now), ev.Action, ev.BizStep,
		ev.Disposition, ev.ReadPoint, ev.BizLocation, ev.TransformationID, len(ev.Sensors) > 0, declaredAt, reason, jobPK, ctxJSON, string(ev.JSON)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return writeDuplicate, nil
	}
	if err != nil {
		return 0, err
	}
	epcs, links, sensors := w.sides[0], w.sides[1], w.sides[2]
	for _, e := range ev.EPCs {
		if err := epcs.add(ctx, id, merchantID, e.Role, e.ID, nullF(e.Quantity), e.UOM); err != nil {
			return 0, err
		}
	}
	for _, l := range []struct {
		kind string
		ids  []trace.TypedID
	}{{"bt", ev.BizTransactions}, {"src", ev.Sources}, {"dst", ev.Destinations}} {
		for _, t := range l.ids {
			if err := links.add(ctx, id, merchantID, l.kind, t.Type, t.ID); err != nil {
				return 0, err
			}
		}
	}
	for _, r := range ev.Sensors {
		var t any
		if r.Time != nil {
			t = ms(*r.Time)
		}
		if err := sensors.add(ctx, id, merchantID, r.Type, r.DeviceID, r.UOM, nullF(r.Value), nullF(r.MinValue), nullF(r.MaxValue), nullF(r.MeanValue), t); err != nil {
			return 0, err
		}
	}
	return writeStored, nil
}
