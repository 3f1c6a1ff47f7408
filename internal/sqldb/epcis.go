package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/trace"
)

// EPCISStore implements trace.EventStore: each event's JSON plus indexed
// columns and side tables (identifiers, business transactions/sources/
// destinations, sensor values) so that every REST query parameter is an
// index lookup rather than a JSON scan.
type EPCISStore struct{ DB *DB }

var _ trace.EventStore = (*EPCISStore)(nil)

// NewEPCISStore returns the EPCIS repository on db.
func NewEPCISStore(db *DB) *EPCISStore { return &EPCISStore{DB: db} }

func newCaptureID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "cap_" + hex.EncodeToString(b[:])
}

// Capture stores the events in one transaction: either all are stored (or
// recognised as duplicates) or none. A failed capture is still recorded as
// a job with success=false so that GET /epcis/capture/{id} can explain it.
func (s *EPCISStore) Capture(ctx context.Context, merchantID int64, events []trace.Event) (trace.CaptureJob, error) {
	job := trace.CaptureJob{ID: newCaptureID(), MerchantID: merchantID, EventCount: len(events)}
	if len(events) > trace.CaptureLimit {
		return job, trace.ErrTooManyEvents
	}
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		job.CreatedAt = tx.Now
		jobPK, err := tx.InsertID(ctx, `INSERT INTO epcis_capture_jobs (public_id, merchant_id, created_at, running, event_count) VALUES (?, ?, ?, 1, ?)`,
			job.ID, merchantID, ms(tx.Now), len(events))
		if err != nil {
			return fmt.Errorf("capture job: %w", err)
		}
		w, err := newEventWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for i := range events {
			res, err := w.write(ctx, merchantID, jobPK, tx.Now, &events[i])
			if err != nil {
				return fmt.Errorf("capture event %d: %w", i, err)
			}
			switch res {
			case writeStored:
				job.Stored++
			case writeDuplicate:
				job.Duplicates++
			case writeDeclared:
				job.Declared++
			}
		}
		if err := w.flush(ctx); err != nil {
			return fmt.Errorf("capture: %w", err)
		}
		fin := tx.Now
		job.FinishedAt, job.Success = &fin, true
		_, err = tx.Exec(ctx, `UPDATE epcis_capture_jobs SET running = 0, success = 1, finished_at = ?, stored = ?, duplicates = ?, declared = ? WHERE id = ?`,
			ms(fin), job.Stored, job.Duplicates, job.Declared, jobPK)
		return err
	})
	if err != nil {
		// Record the failure outside the rolled-back transaction.
		now := s.DB.Now()
		job.CreatedAt, job.FinishedAt, job.Success = now, &now, false
		job.Stored, job.Duplicates, job.Declared = 0, 0, 0
		job.Errors = []string{"storage failed; no event of this capture was stored"}
		errs, _ := json.Marshal(job.Errors)
		bg := context.WithoutCancel(ctx)
		_ = s.DB.WriteTx(bg, func(tx *Tx) error {
			_, e := tx.Exec(bg, `INSERT INTO epcis_capture_jobs (public_id, merchant_id, created_at, finished_at, running, success, event_count, errors) VALUES (?, ?, ?, ?, 0, 0, ?, ?)`,
				job.ID, merchantID, ms(now), ms(now), len(events), string(errs))
			return e
		})
		return job, fmt.Errorf("epcis capture: %w", err)
	}
	return job, nil
}

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

// CaptureJob returns one capture job of the merchant.
func (s *EPCISStore) CaptureJob(ctx context.Context, merchantID int64, id string) (trace.CaptureJob, error) {
	var j trace.CaptureJob
	var created int64
	var finished sql.NullInt64
	var errs string
	err := s.DB.QueryRow(ctx, `SELECT public_id, merchant_id, created_at, finished_at, running, success, event_count, stored, duplicates, declared, errors
		FROM epcis_capture_jobs WHERE merchant_id = ? AND public_id = ?`, merchantID, id).
		Scan(&j.ID, &j.MerchantID, &created, &finished, &j.Running, &j.Success, &j.EventCount, &j.Stored, &j.Duplicates, &j.Declared, &errs)
	if errors.Is(err, sql.ErrNoRows) {
		return j, trace.ErrJobNotFound
	}
	if err != nil {
		return j, fmt.Errorf("capture job: %w", err)
	}
	j.CreatedAt = fromMS(created)
	j.FinishedAt = nullMS(finished)
	_ = json.Unmarshal([]byte(errs), &j.Errors)
	return j, nil
}

const eventCols = `e.id, e.event_id, e.hash_id, e.event_type, e.event_time, e.record_time, e.action, e.biz_step, e.disposition,
	e.read_point, e.biz_location, e.transformation_id, e.error_declared_at, e.error_reason, e.context, e.body`

func scanEvent(row interface{ Scan(...any) error }) (trace.Event, int64, error) {
	var ev trace.Event
	var seq, et, rt int64
	var declared sql.NullInt64
	var ctxJSON sql.NullString
	var body, reason string
	if err := row.Scan(&seq, &ev.EventID, &ev.HashID, &ev.Type, &et, &rt, &ev.Action, &ev.BizStep, &ev.Disposition,
		&ev.ReadPoint, &ev.BizLocation, &ev.TransformationID, &declared, &reason, &ctxJSON, &body); err != nil {
		return ev, 0, err
	}
	ev.EventTime, ev.RecordTime = fromMS(et), fromMS(rt)
	if ctxJSON.Valid {
		ev.Context = json.RawMessage(ctxJSON.String)
	}
	ev.JSON = withRecordTime(body, ev.RecordTime)
	if declared.Valid {
		ev.ErrorDeclaration = &trace.ErrorDeclaration{DeclarationTime: fromMS(declared.Int64), Reason: reason}
	}
	return ev, seq, nil
}

// withRecordTime adds the repository's recordTime to the stored event JSON.
func withRecordTime(body string, rt time.Time) json.RawMessage {
	rest := strings.TrimPrefix(strings.TrimSpace(body), "{")
	sep := ","
	if strings.HasPrefix(strings.TrimSpace(rest), "}") {
		sep = ""
	}
	return json.RawMessage(`{"recordTime":"` + rt.UTC().Format("2006-01-02T15:04:05.000Z") + `"` + sep + rest)
}

// EventByID returns one event of the merchant.
func (s *EPCISStore) EventByID(ctx context.Context, merchantID int64, eventID string) (trace.Event, error) {
	ev, _, err := scanEvent(s.DB.QueryRow(ctx, `SELECT `+eventCols+` FROM epcis_events e WHERE e.merchant_id = ? AND e.event_id = ?`, merchantID, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return ev, trace.ErrEventNotFound
	}
	if err != nil {
		return ev, fmt.Errorf("epcis event: %w", err)
	}
	return ev, nil
}

// query builds a WHERE clause with ? placeholders.
type query struct {
	where []string
	args  []any
	sides []sideFilter
}

// sideFilter is a condition on a side table: "FROM <table> WHERE …" whose
// event column selects events.
type sideFilter struct {
	table, cond string
	args        []any
}

func (q *query) side(table, cond string, args ...any) {
	q.sides = append(q.sides, sideFilter{table: table, cond: cond, args: args})
}

func (q *query) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (q *query) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	q.add(col+` IN (`+placeholders(len(vals))+`)`, args...)
}

// idMatchSQL renders identifier matches: exact, or a class and everything
// below it ("…/01/<gtin>" and "…/01/<gtin>/…"; '0' is the byte after '/').
func idMatchSQL(ms []trace.IDMatch) (string, []any) {
	var ors []string
	var args []any
	for _, m := range ms {
		if m.Prefix {
			// Canonical Digital Links of instances start with their class
			// (…/01/<gtin>/21/…, …/8003/<grai><serial>); URIs are ASCII,
			// so "\x7f" sorts after every continuation.
			ors = append(ors, `(epc >= ? AND epc < ?)`)
			args = append(args, m.ID, m.ID+"\x7f")
		} else {
			ors = append(ors, `epc = ?`)
			args = append(args, m.ID)
		}
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

func (q *query) epcs(merchantID int64, roles []string, ms []trace.IDMatch) {
	if len(ms) == 0 {
		return
	}
	cond, args := idMatchSQL(ms)
	all := []any{merchantID}
	for _, r := range roles {
		all = append(all, r)
	}
	all = append(all, args...)
	q.side(`epcis_event_epcs`, `merchant_id = ? AND role IN (`+placeholders(len(roles))+`) AND `+cond, all...)
}

var sensorColumn = map[string]string{"value": "value", "minValue": "min_value", "maxValue": "max_value", "meanValue": "mean_value"}
var sqlOp = map[string]string{"EQ": "=", "GT": ">", "GE": ">=", "LT": "<", "LE": "<="}

// QueryEvents runs a filter. Side-table conditions are `e.id IN (…)`
// subqueries, which SQLite evaluates once and probes by rowid; the result
// is ordered by (event_time, id), which the time-leading indexes deliver
// without sorting for the common single-field filters.
func (s *EPCISStore) QueryEvents(ctx context.Context, merchantID int64, f trace.EventFilter) (trace.EventPage, error) {
	var page trace.EventPage
	q, per, err := buildEventFilter(merchantID, f)
	if err != nil {
		return page, err
	}
	driver, err := s.chooseDriver(ctx, q)
	if err != nil {
		return page, err
	}
	sqlText, args := q.render(driver, per, s.DB.Dialect == SQLite)
	rows, err := s.DB.Query(ctx, sqlText, args...)
	if err != nil {
		return page, fmt.Errorf("epcis query: %w", err)
	}
	defer rows.Close()
	var last trace.Cursor
	var seqs []int64
	for rows.Next() {
		ev, seq, err := scanEvent(rows)
		if err != nil {
			return page, fmt.Errorf("epcis query: %w", err)
		}
		if len(page.Events) == per {
			page.Next = &trace.Cursor{EventTimeMS: last.EventTimeMS, Seq: last.Seq}
			break
		}
		seqs = append(seqs, seq)
		page.Events = append(page.Events, ev)
		last = trace.Cursor{EventTimeMS: ms(ev.EventTime), Seq: seq}
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("epcis query: %w", err)
	}
	rows.Close()
	if f.WithEPCs && len(page.Events) > 0 {
		if err := s.loadEPCs(ctx, page.Events, seqs); err != nil {
			return page, err
		}
	}
	return page, nil
}

// loadEPCs fills Event.EPCs of a page from the identifier side table.
func (s *EPCISStore) loadEPCs(ctx context.Context, events []trace.Event, seqs []int64) error {
	idx := make(map[int64]int, len(seqs))
	args := make([]any, len(seqs))
	for i, seq := range seqs {
		idx[seq] = i
		args[i] = seq
	}
	rows, err := s.DB.Query(ctx, `SELECT event, role, epc, quantity, uom FROM epcis_event_epcs WHERE event IN (`+placeholders(len(seqs))+`)`, args...)
	if err != nil {
		return fmt.Errorf("epcis query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var r trace.EPCRef
		var qty sql.NullFloat64
		if err := rows.Scan(&seq, &r.Role, &r.ID, &qty, &r.UOM); err != nil {
			return fmt.Errorf("epcis query: %w", err)
		}
		if qty.Valid {
			v := qty.Float64
			r.Quantity = &v
		}
		i := idx[seq]
		events[i].EPCs = append(events[i].EPCs, r)
	}
	return rows.Err()
}

// driverLimit is the most side-table matches for which driving the query
// from that side table (then sorting) beats walking the eventTime index.
const driverLimit = 5000

// chooseDriver picks the side filter to drive the query from: the one with
// the fewest matches, if it has at most driverLimit. SQLite has no
// statistics on how selective an EPC, a transaction or a sensor range is,
// so we ask the covering index (an index-only count, capped) instead of
// letting the planner guess. -1 means: walk events in eventTime order and
// probe the side filters (best when they match many events).
func (s *EPCISStore) chooseDriver(ctx context.Context, q *query) (int, error) {
	driver, best := -1, driverLimit+1
	for i, sf := range q.sides {
		var n int
		err := s.DB.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+sf.table+` WHERE `+sf.cond+` LIMIT ?) AS c`, append(append([]any{}, sf.args...), driverLimit+1)...).Scan(&n)
		if err != nil {
			return -1, fmt.Errorf("epcis query: %w", err)
		}
		if n < best {
			driver, best = i, n
		}
	}
	return driver, nil
}

// render builds the SELECT; side filter driver (if ≥ 0) drives the join.
func (q *query) render(driver, per int, sqlite bool) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString(`SELECT ` + eventCols + ` FROM `)
	if driver >= 0 {
		// CROSS JOIN fixes the join order in SQLite: side table first.
		// PostgreSQL allows no ON after CROSS JOIN and plans by statistics.
		d := q.sides[driver]
		join := ` JOIN `
		if sqlite {
			join = ` CROSS JOIN `
		}
		b.WriteString(`(SELECT DISTINCT event FROM ` + d.table + ` WHERE ` + d.cond + `) AS d` + join + `epcis_events e ON e.id = d.event`)
		args = append(args, q.sides[driver].args...)
	} else {
		b.WriteString(`epcis_events e`)
	}
	b.WriteString(` WHERE ` + strings.Join(q.where, " AND "))
	args = append(args, q.args...)
	for i, sf := range q.sides {
		if i == driver {
			continue
		}
		// Correlated: probed per candidate event via the side table's
		// event index, so the cost follows the rows walked, not the matches.
		// SQLite would otherwise pick the filter's own index and range-scan
		// it for every candidate; every side table has <table>_event.
		hint := ""
		if sqlite {
			hint = ` INDEXED BY ` + sf.table + `_event`
		}
		b.WriteString(` AND EXISTS (SELECT 1 FROM ` + sf.table + hint + ` WHERE event = e.id AND ` + sf.cond + `)`)
		args = append(args, sf.args...)
	}
	b.WriteString(` ORDER BY e.event_time, e.id LIMIT ?`)
	return b.String(), append(args, per+1)
}

// buildEventFilter turns a filter into conditions on events and side tables.
func buildEventFilter(merchantID int64, f trace.EventFilter) (*query, int, error) {
	q := &query{}
	q.add(`e.merchant_id = ?`, merchantID)
	q.in(`e.event_type`, f.EventTypes)
	if f.GEEventTime != nil {
		q.add(`e.event_time >= ?`, ms(*f.GEEventTime))
	}
	if f.LTEventTime != nil {
		q.add(`e.event_time < ?`, ms(*f.LTEventTime))
	}
	if f.GERecordTime != nil {
		q.add(`e.record_time >= ?`, ms(*f.GERecordTime))
	}
	if f.LTRecordTime != nil {
		q.add(`e.record_time < ?`, ms(*f.LTRecordTime))
	}
	q.in(`e.action`, f.Actions)
	q.in(`e.biz_step`, f.BizSteps)
	q.in(`e.disposition`, f.Dispositions)
	q.in(`e.read_point`, f.ReadPoints)
	q.in(`e.biz_location`, f.BizLocations)
	q.in(`e.event_id`, f.EventIDs)
	q.in(`e.transformation_id`, f.TransformationIDs)
	q.epcs(merchantID, []string{trace.RoleEPC, trace.RoleChild}, f.MatchEPC)
	q.epcs(merchantID, []string{trace.RoleParent}, f.MatchParentID)
	q.epcs(merchantID, []string{trace.RoleInput}, f.MatchInputEPC)
	q.epcs(merchantID, []string{trace.RoleOutput}, f.MatchOutputEPC)
	q.epcs(merchantID, []string{trace.RoleEPC, trace.RoleChild, trace.RoleParent, trace.RoleInput, trace.RoleOutput}, f.MatchAnyEPC)
	q.epcs(merchantID, []string{trace.RoleQuantity, trace.RoleChildQuantity}, f.MatchEPCClass)
	q.epcs(merchantID, []string{trace.RoleQuantity, trace.RoleChildQuantity, trace.RoleInputQuantity, trace.RoleOutputQuantity}, f.MatchAnyEPCClass)
	q.epcs(merchantID, []string{trace.RoleLot}, f.MatchLot)
	for _, l := range []struct {
		kind string
		fs   []trace.TypedIDFilter
	}{{"bt", f.BizTransactions}, {"src", f.Sources}, {"dst", f.Destinations}} {
		for _, tf := range l.fs {
			args := []any{merchantID, l.kind}
			for _, id := range tf.IDs {
				args = append(args, id)
			}
			args = append(args, tf.Type)
			q.side(`epcis_event_links`, `merchant_id = ? AND kind = ? AND ref IN (`+placeholders(len(tf.IDs))+`) AND type = ?`, args...)
		}
	}
	if f.ExistsSensorElement {
		q.add(`e.has_sensor = TRUE`)
	}
	if sf := f.Sensor; sf != nil {
		sub := &query{}
		sub.add(`merchant_id = ?`, merchantID)
		sub.in(`type`, sf.Types)
		sub.in(`device_id`, sf.DeviceIDs)
		if sf.UOM != "" {
			sub.add(`uom = ?`, sf.UOM)
		}
		for _, c := range sf.Value {
			col, ok1 := sensorColumn[c.Field]
			op, ok2 := sqlOp[c.Op]
			if !ok1 || !ok2 {
				return nil, 0, fmt.Errorf("epcis query: bad sensor comparison %s %s", c.Op, c.Field)
			}
			sub.add(col+` `+op+` ?`, c.Value)
		}
		q.side(`epcis_sensor_reports`, strings.Join(sub.where, " AND "), sub.args...)
	}
	if f.ExistsErrorDeclaration {
		q.add(`e.error_declared_at IS NOT NULL`)
	}
	q.in(`e.error_reason`, f.ErrorReasons)
	if f.GEErrorDeclTime != nil {
		q.add(`e.error_declared_at >= ?`, ms(*f.GEErrorDeclTime))
	}
	if f.LTErrorDeclTime != nil {
		q.add(`e.error_declared_at < ?`, ms(*f.LTErrorDeclTime))
	}
	if f.After != nil {
		q.add(`(e.event_time, e.id) > (?, ?)`, f.After.EventTimeMS, f.After.Seq)
	}
	per := f.PerPage
	if per <= 0 {
		per = trace.DefaultPerPage
	}
	if per > trace.MaxPerPage {
		per = trace.MaxPerPage
	}
	return q, per, nil
}
