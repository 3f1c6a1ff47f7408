package epcis

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/trace"
)

func mustQuery(t *testing.T, q string) trace.EventFilter {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseQuery(v)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return f
}

func TestParseQuery(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := mustQuery(t, "eventType=ObjectEvent|AggregationEvent&GE_eventTime=2024-05-01T08:00:00%2B08:00&LT_eventTime=2024-05-02T00:00:00Z"+
			"&EQ_action=ADD&EQ_bizStep=shipping&EQ_disposition=urn:epcglobal:cbv:disp:in_transit&EQ_readPoint=urn:epc:id:sgln:0614141.00777.0"+
			"&MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*&MATCH_anyEPC=urn:epc:id:sscc:0614141.1234567890"+
			"&EQ_bizTransaction_po=http://transaction.acme.com/po/12345678&perPage=50")
		if len(f.EventTypes) != 2 || f.GEEventTime == nil || !f.GEEventTime.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("types/time: %+v", f)
		}
		if f.BizSteps[0] != "https://ref.gs1.org/cbv/BizStep-shipping" || f.Dispositions[0] != "https://ref.gs1.org/cbv/Disp-in_transit" {
			t.Errorf("vocab: %v %v", f.BizSteps, f.Dispositions)
		}
		if f.ReadPoints[0] != "https://id.gs1.org/414/0614141007776" {
			t.Errorf("readPoint %v", f.ReadPoints)
		}
		if m := f.MatchEPC[0]; m.ID != "https://id.gs1.org/01/10614141073464" || !m.Prefix {
			t.Errorf("pattern %+v", m)
		}
		if m := f.MatchAnyEPC[0]; m.ID != "https://id.gs1.org/00/106141412345678908" || m.Prefix {
			t.Errorf("sscc %+v", m)
		}
		if bt := f.BizTransactions[0]; bt.Type != "https://ref.gs1.org/cbv/BTT-po" || bt.IDs[0] != "http://transaction.acme.com/po/12345678" {
			t.Errorf("bizTransaction %+v", bt)
		}
		if f.PerPage != 50 {
			t.Errorf("perPage %d", f.PerPage)
		}
	})
	t.Run("SensorFahrenheit", func(t *testing.T) {
		f := mustQuery(t, "EQ_type=Temperature&GE_value_FAH=39.2&LT_value=8")
		s := f.Sensor
		if s == nil || s.Types[0] != "https://gs1.org/voc/Temperature" || s.UOM != "CEL" || len(s.Value) != 2 {
			t.Fatalf("sensor %+v", s)
		}
		if s.Value[0].Op != "GE" || s.Value[0].Value != 4 || s.Value[1].Op != "LT" || s.Value[1].Value != 8 {
			t.Fatalf("comparisons %+v", s.Value)
		}
	})
	t.Run("SensorKelvinViaEQ_uom", func(t *testing.T) {
		f := mustQuery(t, "EQ_type=Temperature&EQ_uom=KEL&LT_maxValue=281.15")
		if c := f.Sensor.Value[0]; c.Field != "maxValue" || c.Value != 8 || f.Sensor.UOM != "CEL" {
			t.Fatalf("%+v", f.Sensor)
		}
	})
	t.Run("ExistsSensorElement", func(t *testing.T) {
		if !mustQuery(t, "EXISTS_sensorElement").ExistsSensorElement {
			t.Fatal("not set")
		}
	})
	bad := []struct{ name, q, param string }{
		{"ErrUnknownParam", "MATCH_epcs=x:y", "MATCH_epcs"},
		{"ErrEventType", "eventType=PartyEvent", "eventType"},
		{"ErrTime", "GE_eventTime=yesterday", "GE_eventTime"},
		{"ErrAction", "EQ_action=JUMP", "EQ_action"},
		{"ErrPerPage", "perPage=0", "perPage"},
		{"ErrPerPageBig", "perPage=100000", "perPage"},
		{"ErrValue", "EQ_type=Temperature&GE_value=warm", "GE_value"},
		{"ErrNoUnit", "EQ_type=Humidity&GE_value=3", "GE_value"},
		{"ErrMixedUnits", "GE_value_CEL=3&LT_value_KGM=5", "LT_value_KGM"},
		{"ErrEmptyListItem", "EQ_bizStep=shipping||receiving", "EQ_bizStep"},
		{"ErrPattern", "MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*", "MATCH_epc"},
		{"ErrToken", "nextPageToken=abc!", "nextPageToken"},
		{"ErrBizTxNoType", "EQ_bizTransaction_=1", "EQ_bizTransaction_"},
		{"ErrTooManyValues", "EQ_bizStep=" + strings.Repeat("shipping|", 100) + "shipping", "EQ_bizStep"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			v, _ := url.ParseQuery(c.q)
			_, err := ParseQuery(v)
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Param != c.param || qe.Message == "" {
				t.Fatalf("%s: want error on %s, got %v", c.q, c.param, err)
			}
		})
	}
}

func TestPageToken(t *testing.T) {
	q := url.Values{"EQ_bizStep": {"shipping"}, "perPage": {"2"}}
	tok := EncodePageToken(trace.Cursor{EventTimeMS: 1700000000000, Seq: 42}, q)
	q.Set("nextPageToken", tok)
	f, err := ParseQuery(q)
	if err != nil || f.After == nil || f.After.Seq != 42 || f.After.EventTimeMS != 1700000000000 {
		t.Fatalf("%+v %v", f.After, err)
	}
	q.Set("EQ_bizStep", "receiving")
	if _, err := ParseQuery(q); err == nil {
		t.Fatal("token accepted for a different query")
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("eventType=ObjectEvent&GE_eventTime=2024-05-01T08:00:00Z&perPage=5")
	f.Add("EQ_type=Temperature&GE_value_FAH=39.2&LT_value=8")
	f.Add("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*|https://id.gs1.org/01/09521234543213")
	f.Add("EQ_bizTransaction_po=urn:epcglobal:cbv:bt:0614141073467:1152&EXISTS_sensorElement")
	f.Add("nextPageToken=MS4xLjIuYWJj")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		fl, err := ParseQuery(v)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Param == "" {
				t.Fatalf("error without parameter: %v", err)
			}
			return
		}
		if fl.PerPage < 1 || fl.PerPage > trace.MaxPerPage {
			t.Fatalf("perPage %d out of range", fl.PerPage)
		}
	})
}
