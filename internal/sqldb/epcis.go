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
