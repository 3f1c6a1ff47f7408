package trace_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/trace"
	"github.com/shelflive/shelflive/internal/trace/epcis"
)

// A yogurt lot made from a farm's milk lot, packed on a pallet, shipped
// with a temperature log, received and unpacked in a store, sold. The
// pallet is reused for another shipment afterwards, and another lot exists.
const yogurtDoc = `{
 "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
 "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-05-10T00:00:00Z",
 "epcisBody": {"eventList": [
  {"type": "ObjectEvent", "eventTime": "2024-05-01T06:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "ADD",
   "bizStep": "commissioning", "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.FARM1", "quantity": 500, "uom": "LTR"}],
   "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}},
  {"type": "TransformationEvent", "eventTime": "2024-05-02T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
   "bizStep": "commissioning", "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.FARM1", "quantity": 500, "uom": "LTR"}],
   "outputEPCList": ["urn:epc:id:sgtin:4012345.022222.1", "urn:epc:id:sgtin:4012345.022222.2", "urn:epc:id:sgtin:4012345.022222.3"],
   "readPoint": {"id": "urn:epc:id:sgln:4012345.00002.0"}, "ilmd": {"cbvmda:lotNumber": "Y24", "cbvmda:bestBeforeDate": "2024-06-01"}},
  {"type": "AggregationEvent", "eventTime": "2024-05-02T12:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "ADD",
   "bizStep": "packing", "parentID": "urn:epc:id:sscc:4012345.0000000001",
   "childEPCs": ["urn:epc:id:sgtin:4012345.022222.1", "urn:epc:id:sgtin:4012345.022222.2", "urn:epc:id:sgtin:4012345.022222.3"],
   "readPoint": {"id": "urn:epc:id:sgln:4012345.00002.0"}},
  {"type": "ObjectEvent", "eventTime": "2024-05-03T08:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
   "bizStep": "shipping", "disposition": "in_transit", "epcList": ["urn:epc:id:sscc:4012345.0000000001"],
   "readPoint": {"id": "urn:epc:id:sgln:4012345.00002.0"},
   "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 38.5, "uom": "FAH"}]}]},
  {"type": "ObjectEvent", "eventTime": "2024-05-03T15:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
   "bizStep": "receiving", "disposition": "in_progress", "epcList": ["urn:epc:id:sscc:4012345.0000000001"],
   "readPoint": {"id": "urn:epc:id:sgln:4012345.00099.0"}},
  {"type": "AggregationEvent", "eventTime": "2024-05-03T16:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "DELETE",
   "bizStep": "unpacking", "parentID": "urn:epc:id:sscc:4012345.0000000001", "childEPCs": [],
   "readPoint": {"id": "urn:epc:id:sgln:4012345.00099.0"}},
  {"type": "ObjectEvent", "eventTime": "2024-05-04T10:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "DELETE",
   "bizStep": "retail_selling", "epcList": ["urn:epc:id:sgtin:4012345.022222.2"], "readPoint": {"id": "urn:epc:id:sgln:4012345.00099.0"}},
  {"type": "ObjectEvent", "eventTime": "2024-05-06T08:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
   "bizStep": "shipping", "epcList": ["urn:epc:id:sscc:4012345.0000000001"], "readPoint": {"id": "urn:epc:id:sgln:4012345.00099.0"}},
  {"type": "ObjectEvent", "eventTime": "2024-05-05T09:00:00+08:00", "eventTimeZoneOffset": "+08:00", "action": "ADD",
   "bizStep": "commissioning", "epcList": ["urn:epc:id:sgtin:4012345.022222.9"], "readPoint": {"id": "urn:epc:id:sgln:4012345.00002.0"},
   "ilmd": {"cbvmda:lotNumber": "Y25"}}
 ]}}`

func TestLotTrace(t *testing.T) {
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(t.TempDir(), "lot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var m int64
	err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		m, err = tx.InsertID(ctx, `INSERT INTO merchants (slug, name, created_at) VALUES ('dairy', 'dairy', ?)`, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := epcis.ParseDocument([]byte(yogurtDoc))
	if err != nil {
		t.Fatal(err)
	}
	store := sqldb.NewEPCISStore(db)
	if _, err := store.Capture(ctx, m, doc.Events); err != nil {
		t.Fatal(err)
	}
	svc := &trace.Service{Events: store}

	t.Run("OK", func(t *testing.T) {
		h, err := svc.LotTrace(ctx, m, "4012345222227", "Y24")
		if err != nil {
			t.Fatal(err)
		}
		if h.LGTIN != "https://id.gs1.org/01/04012345222227/10/Y24" || len(h.Items) != 3 {
			t.Fatalf("lot %s items %v", h.LGTIN, h.Items)
		}
		var got []string
		for _, s := range h.Steps {
			step := s.Event.BizStep[strings.LastIndex(s.Event.BizStep, "-")+1:]
			got = append(got, s.Stage+":"+step+":"+s.Link)
		}
		want := []string{
			"origin:commissioning:input",     // the farm's milk lot
			"processing:commissioning:lot",   // transformation into yogurt lot Y24
			"processing:packing:item",        // onto the pallet
			"transport:shipping:container",   // the pallet leaves, with a temperature log
			"transport:receiving:container",  // arrives at the store
			"processing:unpacking:container", // unpacked
			"store:retail_selling:item",      // one pot sold
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("trace\n got %v\nwant %v", got, want)
		}
		if len(h.Inputs) != 1 || h.Inputs[0] != "https://id.gs1.org/01/04012345111118/10/FARM1" {
			t.Fatalf("inputs %v", h.Inputs)
		}
		cst := time.FixedZone("CST", 8*3600)
		at := func(d, hh int) time.Time { return time.Date(2024, 5, d, hh, 0, 0, 0, cst) }
		want2 := []trace.Stay{
			{Location: "https://id.gs1.org/414/4012345000023", From: at(2, 9), To: at(3, 8)}, // dairy
			{Location: "", From: at(3, 8), To: at(3, 15)},                                    // in transit
			{Location: "https://id.gs1.org/414/4012345000993", From: at(3, 15)},              // store, still there
		}
		stays := h.Stays()
		if len(stays) != len(want2) {
			t.Fatalf("stays %+v", stays)
		}
		for i := range stays {
			if stays[i].Location != want2[i].Location || !stays[i].From.Equal(want2[i].From) || !stays[i].To.Equal(want2[i].To) {
				t.Fatalf("stay %d: %+v, want %+v", i, stays[i], want2[i])
			}
		}
	})
	t.Run("LotOfItem", func(t *testing.T) {
		_, _, item, err := epcis.ParseLotRef("urn:epc:id:sgtin:4012345.022222.2")
		if err != nil {
			t.Fatal(err)
		}
		g, l, err := svc.LotOfItem(ctx, m, item)
		if err != nil || g != "04012345222227" || l != "Y24" {
			t.Fatalf("%q %q %v", g, l, err)
		}
		if _, _, err := svc.LotOfItem(ctx, m, "https://id.gs1.org/01/04012345222227/21/404"); !apperr.Is(err, "trace_lot_not_found") {
			t.Fatalf("unknown item: %v", err)
		}
	})
	t.Run("ErrLotNotFound", func(t *testing.T) {
		if _, err := svc.LotTrace(ctx, m, "4012345222227", "NOPE"); !apperr.Is(err, "trace_lot_not_found") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("ErrOtherMerchant", func(t *testing.T) {
		if _, err := svc.LotTrace(ctx, m+1000, "4012345222227", "Y24"); !apperr.Is(err, "trace_lot_not_found") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("ErrInvalidGTIN", func(t *testing.T) {
		if _, err := svc.LotTrace(ctx, m, "12ab", "Y24"); !apperr.Is(err, "trace_invalid_gtin") {
			t.Fatalf("%v", err)
		}
	})
}
