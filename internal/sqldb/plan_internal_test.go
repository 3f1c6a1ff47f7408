package sqldb

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/shelflive/shelflive/internal/trace/epcis"
)

func TestPlanTmp(t *testing.T) {
	db, err := OpenSQLite(context.Background(), os.Getenv("PLANDB"))
	if err != nil {
		t.Skip()
	}
	for _, q := range []string{"MATCH_epc=urn:epc:id:sgtin:0614141.100012.5", "MATCH_anyEPC=https://id.gs1.org/01/10614141000012", "EQ_bizTransaction_po=x", "EQ_type=Temperature&GE_value=8&GE_eventTime=2025-01-01T00:00:00Z"} {
		v, _ := url.ParseQuery(q)
		f, _ := epcis.ParseQuery(v)
		qq, per, _ := buildEventFilter(1, f)
		st := &EPCISStore{DB: db}
		d, _ := st.chooseDriver(context.Background(), qq)
		sqlText, args := qq.render(d, per)
		rows, err := db.Query(context.Background(), "EXPLAIN QUERY PLAN "+sqlText, args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(q)
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			t.Log("   ", d)
		}
		rows.Close()
	}
}
