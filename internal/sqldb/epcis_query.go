package sqldb

// The EPCIS query: trace.EventFilter turned into SQL over the events and
// their side tables, with the most selective table driving the plan.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/shelflive/shelflive/internal/trace"
)

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
	q.links(merchantID, f)
	if f.ExistsSensorElement {
		q.add(`e.has_sensor = TRUE`)
	}
	if err := q.sensor(merchantID, f.Sensor); err != nil {
		return nil, 0, err
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

// links filters by business transactions, sources and destinations: each
// one a condition on epcis_event_links.
func (q *query) links(merchantID int64, f trace.EventFilter) {
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
}

// sensor filters by the events' sensor reports (type, device, unit and
// value comparisons), one condition on epcis_sensor_reports; nil adds none.
func (q *query) sensor(merchantID int64, sf *trace.SensorFilter) error {
	if sf == nil {
		return nil
	}
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
			return fmt.Errorf("epcis query: bad sensor comparison %s %s", c.Op, c.Field)
		}
		sub.add(col+` `+op+` ?`, c.Value)
	}
	q.side(`epcis_sensor_reports`, strings.Join(sub.where, " AND "), sub.args...)
	return nil
}
