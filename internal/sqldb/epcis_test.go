package sqldb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

const epcisExamples = "../trace/epcis/testdata/gs1examples"

// mustOpenEPCIS opens a fresh SQLite database with two merchants.
func mustOpenEPCIS(tb testing.TB) (*sqldb.DB, *sqldb.EPCISStore, int64, int64) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(tb.TempDir(), "epcis.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	var ids []int64
	err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		for _, slug := range []string{"farm", "other"} {
			id, err := tx.InsertID(ctx, `INSERT INTO merchants (slug, name, created_at) VALUES (?, ?, ?)`, slug, slug, time.Now().UnixMilli())
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db, sqldb.NewEPCISStore(db), ids[0], ids[1]
}

func parseExample(tb testing.TB, name string) []trace.Event {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(epcisExamples, name))
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := epcis.ParseDocument(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return doc.Events
}

func query(tb testing.TB, s *sqldb.EPCISStore, merchant int64, q string) trace.EventPage {
	tb.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := epcis.ParseQuery(v)
	if err != nil {
		tb.Fatal(err)
	}
	page, err := s.QueryEvents(context.Background(), merchant, f)
	if err != nil {
		tb.Fatal(err)
	}
	return page
}

func TestEPCISCapture(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		_, s, m, other := mustOpenEPCIS(t)
		evs := parseExample(t, "Example_9.6.1-ObjectEvent.jsonld")
		job, err := s.Capture(ctx, m, evs)
		if err != nil {
			t.Fatal(err)
		}
		if !job.Success || job.Running || job.Stored != len(evs) || job.Duplicates != 0 || job.FinishedAt == nil {
			t.Fatalf("job %+v", job)
		}
		got, err := s.CaptureJob(ctx, m, job.ID)
		if err != nil || got.Stored != job.Stored || !got.Success {
			t.Fatalf("job read back %+v %v", got, err)
		}
		if _, err := s.CaptureJob(ctx, other, job.ID); !apperr.Is(err, "epcis_capture_not_found") {
			t.Fatalf("other merchant sees the job: %v", err)
		}
		ev, err := s.EventByID(ctx, m, evs[0].EventID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.BizStep != "https://ref.gs1.org/cbv/BizStep-shipping" || ev.RecordTime.IsZero() || string(ev.JSON[:14]) != `{"recordTime":` {
			t.Fatalf("event %+v %s", ev, ev.JSON)
		}
		if _, err := s.EventByID(ctx, other, evs[0].EventID); !apperr.Is(err, "epcis_event_not_found") {
			t.Fatalf("tenant leak: %v", err)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		_, s, m, _ := mustOpenEPCIS(t)
		evs := parseExample(t, "Example_9.6.2-ObjectEvent.jsonld")
		if _, err := s.Capture(ctx, m, evs); err != nil {
			t.Fatal(err)
		}
		job, err := s.Capture(ctx, m, evs)
		if err != nil {
			t.Fatal(err)
		}
		if job.Stored != 0 || job.Duplicates != len(evs) {
			t.Fatalf("recapture stored again: %+v", job)
		}
		if n := len(query(t, s, m, "perPage=1000").Events); n != len(evs) {
			t.Fatalf("%d events stored, want %d", n, len(evs))
		}
	})
	t.Run("AllOrNothing", func(t *testing.T) {
		db, s, m, _ := mustOpenEPCIS(t)
		evs := parseExample(t, "Example_9.6.1-ObjectEvent.jsonld")
		// Make the database refuse the second event, after the first was written.
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TRIGGER refuse BEFORE INSERT ON epcis_events WHEN NEW.event_id = '%s' BEGIN SELECT RAISE(ABORT, 'refused'); END`, evs[1].EventID))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		job, err := s.Capture(ctx, m, evs)
		if err == nil {
			t.Fatal("capture succeeded")
		}
		if n := len(query(t, s, m, "").Events); n != 0 {
			t.Fatalf("%d events stored after a failed capture", n)
		}
		got, err := s.CaptureJob(ctx, m, job.ID)
		if err != nil || got.Success || len(got.Errors) == 0 {
			t.Fatalf("failed job not recorded: %+v %v", got, err)
		}
	})
	t.Run("ErrorDeclarationMarksEvent", func(t *testing.T) {
		_, s, m, _ := mustOpenEPCIS(t)
		// The original erroneous event: the declaration's event without its errorDeclaration.
		raw, err := os.ReadFile(filepath.Join(epcisExamples, "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld"))
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		json.Unmarshal(raw, &d)
		list := d["epcisBody"].(map[string]any)["eventList"].([]any)
		delete(list[0].(map[string]any), "errorDeclaration")
		d["epcisBody"].(map[string]any)["eventList"] = list[:1]
		raw, _ = json.Marshal(d)
		doc, err := epcis.ParseDocument(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Capture(ctx, m, doc.Events); err != nil {
			t.Fatal(err)
		}
		decl := parseExample(t, "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld")
		job, err := s.Capture(ctx, m, decl)
		if err != nil {
			t.Fatal(err)
		}
		if job.Declared != 1 || job.Stored != 1 {
			t.Fatalf("job %+v", job)
		}
		ev, err := s.EventByID(ctx, m, "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8")
		if err != nil {
			t.Fatal(err)
		}
		if ev.ErrorDeclaration == nil || ev.ErrorDeclaration.Reason != "https://ref.gs1.org/cbv/ER-incorrect_data" {
			t.Fatalf("not marked: %+v", ev.ErrorDeclaration)
		}
		page := query(t, s, m, "EXISTS_errorDeclaration")
		if len(page.Events) != 1 || page.Events[0].EventID != ev.EventID {
			t.Fatalf("EXISTS_errorDeclaration: %d events", len(page.Events))
		}
		if len(query(t, s, m, "EQ_errorReason=incorrect_data").Events) != 1 {
			t.Fatal("EQ_errorReason")
		}
		// declarationTime is 2020-01-15T00:00:00+01:00.
		if len(query(t, s, m, "GE_errorDeclarationTime=2020-01-14T23:00:00Z&LT_errorDeclarationTime=2020-01-14T23:00:00.001Z").Events) != 1 ||
			len(query(t, s, m, "GE_errorDeclarationTime=2020-01-14T23:00:00.001Z").Events) != 0 {
			t.Fatal("errorDeclarationTime range")
		}
		// Recapturing the declaration changes nothing.
		job, err = s.Capture(ctx, m, decl)
		if err != nil || job.Declared != 0 || job.Stored != 0 || job.Duplicates != 2 {
			t.Fatalf("recapture %+v %v", job, err)
		}
	})
	t.Run("Pagination", func(t *testing.T) {
		_, s, m, _ := mustOpenEPCIS(t)
		var all []trace.Event
		for _, f := range []string{"Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld", "Example_9.6.3-AggregationEvent.jsonld", "Example-TransactionEvents-2020_07_03y.jsonld"} {
			evs := parseExample(t, f)
			if _, err := s.Capture(ctx, m, evs); err != nil {
				t.Fatal(err)
			}
			all = append(all, evs...)
		}
		f := trace.EventFilter{PerPage: 2}
		seen := map[string]bool{}
		var prev time.Time
		for pages := 0; ; pages++ {
			page, err := s.QueryEvents(ctx, m, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				if seen[ev.EventID] {
					t.Fatalf("event %s on two pages", ev.EventID)
				}
				if ev.EventTime.Before(prev) {
					t.Fatal("not ordered by eventTime")
				}
				prev = ev.EventTime
				seen[ev.EventID] = true
			}
			if page.Next == nil {
				break
			}
			if pages > 100 {
				t.Fatal("pagination does not end")
			}
			f.After = page.Next
		}
		distinct := map[string]bool{}
		for _, ev := range all {
			distinct[ev.EventID] = true
		}
		if len(seen) != len(distinct) {
			t.Fatalf("paged through %d events, stored %d", len(seen), len(distinct))
		}
	})
}
