package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/wecom"
)

// TestContractWeCom: the corp secret is sealed at rest and opens only for
// its merchant; userids are per merchant and staff; a day's send is kept
// once (the first answer stays).
func TestContractWeCom(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newShop(t, db)
		st := &identity.Staff{MerchantID: s.m, Username: "wang", Name: "王导购", Role: identity.RoleGuide, GuideCode: "wang01", PasswordHash: "h"}
		must(t, s.ids.CreateStaff(ctx, st))
		box, err := secretbox.New("test-secret-key-0123456789abcdef0123456789")
		must(t, err)
		w := &sqldb.WeComStore{DB: db, Box: box}
		if got, err := w.WeComSettings(ctx, s.m); err != nil || got != nil {
			t.Fatalf("unconnected: %+v %v", got, err)
		}
		must(t, w.SetWeComSettings(ctx, s.m, wecom.Settings{CorpID: "ww1", Secret: "plain-secret"}))
		var stored string
		must(t, db.QueryRow(ctx, `SELECT secret FROM wecom_settings WHERE merchant_id = ?`, s.m).Scan(&stored))
		if strings.Contains(stored, "plain-secret") || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("secret stored as %q", stored)
		}
		if got, err := w.WeComSettings(ctx, s.m); err != nil || got.CorpID != "ww1" || got.Secret != "plain-secret" {
			t.Fatalf("settings %+v %v", got, err)
		}
		// copied onto another merchant, the sealed secret does not open
		must(t, db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO wecom_settings (merchant_id, corp_id, secret, updated_at) VALUES (?, 'ww1', ?, 0)`, s.other, stored)
			return err
		}))
		if _, err := w.WeComSettings(ctx, s.other); err == nil {
			t.Fatal("another merchant's sealed secret opened")
		}
		must(t, w.SetWeComUserID(ctx, s.m, st.ID, "wang01"))
		must(t, w.SetWeComUserID(ctx, s.m, st.ID, "wang02"))
		if u, err := w.WeComUserID(ctx, s.m, st.ID); err != nil || u != "wang02" {
			t.Fatalf("userid %q %v", u, err)
		}
		if u, _ := w.WeComUserID(ctx, s.other, st.ID); u != "" {
			t.Fatalf("other merchant sees userid %q", u)
		}
		must(t, w.SetWeComUserID(ctx, s.m, st.ID, ""))
		if u, _ := w.WeComUserID(ctx, s.m, st.ID); u != "" {
			t.Fatalf("cleared userid %q", u)
		}
		must(t, w.RecordWeComSent(ctx, s.m, st.ID, "demo", "2026-12-07", wecom.Result{MsgID: "m1", FailList: []string{"a", "b"}}))
		must(t, w.RecordWeComSent(ctx, s.m, st.ID, "demo", "2026-12-07", wecom.Result{MsgID: "m2"}))
		got, err := w.WeComSent(ctx, s.m, st.ID, "demo", "2026-12-07")
		if err != nil || got == nil || got.MsgID != "m1" || len(got.FailList) != 2 {
			t.Fatalf("sent %+v %v", got, err)
		}
		if got, _ := w.WeComSent(ctx, s.m, st.ID, "demo", "2026-12-08"); got != nil {
			t.Fatalf("next day already sent: %+v", got)
		}
	})
}
