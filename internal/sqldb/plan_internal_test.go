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
	for _, q := range []string{"MATCH_epc=https://id.gs1.org/01/10614141000012/21/1", "MATCH_anyEPC=https://id.gs1.org/01/10614141000012", "EQ_bizTransaction_po=x", "EQ_type=Temperature&GE_value=8&GE_eventTime=2025-01-01T00:00:00Z"} {
		v, _ := url.ParseQuery(q)
		f, _ := epcis.ParseQuery(v)
		sqlText, args, _, _ := buildEventQuery(1, f)
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
