package sqldb_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trace"
)

// TestContractEPCIS captures GS1's example documents on each database and
// checks every filter kind against an in-memory oracle computed from the
// parsed events, so SQLite and PostgreSQL must return the same events in
// the same (eventTime, capture) order.
func TestContractEPCIS(t *testing.T) {
	files := []string{
		"Example_9.6.1-ObjectEvent.jsonld",
		"Example_9.6.2-ObjectEvent.jsonld",
		"Example_9.6.3-AggregationEvent.jsonld",
		"Example_9.6.4-TransformationEvent.jsonld",
		"Example-TransactionEvents-2020_07_03y.jsonld",
		"Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld",
		"WithSensorData/SensorDataExample1.jsonld",
		"WithSensorData/SensorDataExample2.jsonld",
		"WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
		"WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
		"WithSensorData/SensorDataExample12.jsonld",
	}
	var all []trace.Event
	for _, f := range files {
		all = append(all, parseExample(t, f)...)
	}
	// de-duplicate by event ID as the store does (first capture wins)
	seen := map[string]bool{}
	var events []trace.Event
	for _, ev := range all {
		if !seen[ev.EventID] {
			seen[ev.EventID] = true
			events = append(events, ev)
		}
	}

	instance := []string{trace.RoleEPC, trace.RoleChild, trace.RoleParent, trace.RoleInput, trace.RoleOutput}
	hasEPC := func(ev trace.Event, match func(string) bool) bool {
		for _, r := range ev.EPCs {
			if slices.Contains(instance, r.Role) && match(r.ID) {
				return true
			}
		}
		return false
	}
	type tc struct {
		name string
		f    trace.EventFilter
		want func(trace.Event) bool
	}
	cases := []tc{
		{"all", trace.EventFilter{}, func(trace.Event) bool { return true }},
		{"eventType", trace.EventFilter{EventTypes: []string{"ObjectEvent"}}, func(ev trace.Event) bool { return ev.Type == "ObjectEvent" }},
		{"sensor", trace.EventFilter{ExistsSensorElement: true}, func(ev trace.Event) bool { return len(ev.Sensors) > 0 }},
	}
	// identifiers, exact and by class prefix, taken from the events
	var epc string
	for _, ev := range events {
		for _, r := range ev.EPCs {
			if slices.Contains(instance, r.Role) && strings.Contains(r.ID, "/21/") && epc == "" {
				epc = r.ID
			}
		}
	}
	if epc == "" {
		t.Fatal("no serialised EPC in the examples")
	}
	class := epc[:strings.Index(epc, "/21/")]
	cases = append(cases,
		tc{"epc", trace.EventFilter{MatchAnyEPC: []trace.IDMatch{{ID: epc}}}, func(ev trace.Event) bool { return hasEPC(ev, func(id string) bool { return id == epc }) }},
		tc{"epcClassPrefix", trace.EventFilter{MatchAnyEPC: []trace.IDMatch{{ID: class, Prefix: true}}}, func(ev trace.Event) bool {
			return hasEPC(ev, func(id string) bool { return strings.HasPrefix(id, class) })
		}},
	)
	for _, ev := range events {
		if len(ev.BizTransactions) > 0 {
			bt := ev.BizTransactions[0]
			cases = append(cases, tc{"bizTransaction", trace.EventFilter{BizTransactions: []trace.TypedIDFilter{{Type: bt.Type, IDs: []string{bt.ID}}}}, func(ev trace.Event) bool {
				return slices.Contains(ev.BizTransactions, bt)
			}})
			break
		}
	}
	for _, ev := range events {
		if len(ev.Sensors) > 0 && ev.Sensors[0].Value != nil && ev.Sensors[0].Type != "" {
			s := ev.Sensors[0]
			limit := *s.Value - 0.001
			cases = append(cases, tc{"sensorValue", trace.EventFilter{Sensor: &trace.SensorFilter{Types: []string{s.Type}, Value: []trace.Comparison{{Field: "value", Op: "GT", Value: limit}}}},
				func(ev trace.Event) bool {
					for _, r := range ev.Sensors {
						if r.Type == s.Type && r.Value != nil && *r.Value > limit {
							return true
						}
					}
					return false
				}})
			break
		}
	}
	for _, ev := range events {
		for _, r := range ev.EPCs {
			if r.Role == trace.RoleLot {
				lotID := r.ID
				cases = append(cases, tc{"lot", trace.EventFilter{MatchLot: []trace.IDMatch{{ID: lotID}}}, func(ev trace.Event) bool {
					return slices.ContainsFunc(ev.EPCs, func(r trace.EPCRef) bool { return r.Role == trace.RoleLot && r.ID == lotID })
				}})
				break
			}
		}
	}
	mid := events[len(events)/2].EventTime
	cases = append(cases, tc{"eventTime", trace.EventFilter{GEEventTime: &mid}, func(ev trace.Event) bool { return !ev.EventTime.Before(mid.Truncate(time.Millisecond)) }})

	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ids := &sqldb.IdentityStore{DB: db}
		m := &identity.Merchant{Slug: "farm", Name: "farm"}
		must(t, ids.CreateMerchant(ctx, m))
		other := &identity.Merchant{Slug: "other", Name: "other"}
		must(t, ids.CreateMerchant(ctx, other))
		s := sqldb.NewEPCISStore(db)
		stored := 0
		for _, f := range files {
			job, err := s.Capture(ctx, m.ID, parseExample(t, f))
			must(t, err)
			if !job.Success {
				t.Fatalf("capture %s: %+v", f, job)
			}
			stored += job.Stored
		}
		if stored != len(events) {
			t.Fatalf("stored %d events, want %d", stored, len(events))
		}
		// recapture: all duplicates
		job, err := s.Capture(ctx, m.ID, parseExample(t, files[0]))
		must(t, err)
		if job.Stored != 0 || job.Duplicates == 0 {
			t.Fatalf("recapture %+v", job)
		}
		for _, c := range cases {
			var want []string
			for _, ev := range events {
				if c.want(ev) {
					want = append(want, ev.EventID)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s: the oracle selects nothing; pick another example", c.name)
			}
			f := c.f
			f.PerPage = 1000
			page, err := s.QueryEvents(ctx, m.ID, f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var got []string
			for i, ev := range page.Events {
				got = append(got, ev.EventID)
				if i > 0 && ev.EventTime.Before(page.Events[i-1].EventTime) {
					t.Errorf("%s: not in eventTime order", c.name)
				}
			}
			if !sameSet(got, want) {
				t.Errorf("%s: got %d events %v, want %d %v", c.name, len(got), got, len(want), want)
			}
			otherPage, err := s.QueryEvents(ctx, other.ID, f)
			if err != nil || len(otherPage.Events) != 0 {
				t.Errorf("%s: other tenant sees %d events (%v)", c.name, len(otherPage.Events), err)
			}
		}
		// WithEPCs returns each event's identifiers as captured
		page, err := s.QueryEvents(ctx, m.ID, trace.EventFilter{PerPage: 1000, WithEPCs: true})
		must(t, err)
		byID := map[string]trace.Event{}
		for _, ev := range events {
			byID[ev.EventID] = ev
		}
		for _, ev := range page.Events {
			want, got := epcKeys(byID[ev.EventID].EPCs), epcKeys(ev.EPCs)
			if !sameSet(got, want) {
				t.Errorf("EPCs of %s: got %v, want %v", ev.EventID, got, want)
			}
		}
		// pages of 2 walk every event once
		f := trace.EventFilter{PerPage: 2}
		n := 0
		for pages := 0; ; pages++ {
			page, err := s.QueryEvents(ctx, m.ID, f)
			must(t, err)
			n += len(page.Events)
			if page.Next == nil || pages > 100 {
				break
			}
			f.After = page.Next
		}
		if n != len(events) {
			t.Fatalf("paging saw %d events, want %d", n, len(events))
		}
		ev, err := s.EventByID(ctx, m.ID, events[0].EventID)
		must(t, err)
		if ev.EventID != events[0].EventID || !strings.HasPrefix(string(ev.JSON), `{"recordTime":`) {
			t.Fatalf("event %+v", ev)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func epcKeys(rs []trace.EPCRef) []string {
	out := []string{}
	for _, r := range rs {
		q := ""
		if r.Quantity != nil {
			q = strconv.FormatFloat(*r.Quantity, 'g', -1, 64)
		}
		out = append(out, r.Role+" "+r.ID+" "+q+" "+r.UOM)
	}
	return out
}
