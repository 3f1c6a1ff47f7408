package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/testkit"
)

// merchantDBs are the databases the merchant commands are tested on:
// SQLite always, PostgreSQL (a fresh schema) when SHELFLIVE_TEST_POSTGRES is set.
func merchantDBs(t *testing.T) map[string]string {
	dbs := map[string]string{"sqlite": ""}
	if pg := os.Getenv(envTestPostgres); pg != "" {
		dbs["postgres"] = freshSchema(t, pg)
	}
	return dbs
}

// cli runs `shelflive merchant …` in-process with stdin and returns its output.
func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := runMerchant(context.Background(), args, strings.NewReader(stdin), &out)
	return out.String(), err
}

func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := cli(t, stdin, args...)
	if err != nil {
		t.Fatalf("shelflive merchant %s: %v", strings.Join(args, " "), err)
	}
	return out
}

type problemDoc struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// apiCall sends a request and returns the status and the problem code (if any).
func apiCall(t *testing.T, c *testkit.Client, method, path string, body any) (int, string) {
	t.Helper()
	var p problemDoc
	st := c.Do(t, method, path, body, &p)
	return st, p.Code
}

func staffClient(t *testing.T, m *node.Main, login, password string) *testkit.Client {
	t.Helper()
	var s struct{ Token string }
	anon := &testkit.Client{Base: m.URL()}
	if st := anon.Do(t, "POST", "/api/v1/auth/login", map[string]string{"login": login, "password": password}, &s); st != 200 || s.Token == "" {
		t.Fatalf("login %s: %d", login, st)
	}
	return &testkit.Client{Base: m.URL(), Token: s.Token}
}

// TestMerchantCommands: a platform operator opens two shops from nothing
// with the CLI (weak passwords refused with the reason), each owner works
// in their own shop only, and disabling one closes it — its staff and
// viewers are refused, its rooms are off — while the other keeps trading.
func TestMerchantCommands(t *testing.T) {
	for name, dbURL := range merchantDBs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			common := []string{"--data-dir", dir}
			if dbURL != "" {
				common = []string{"--database-url", dbURL}
			}
			create := func(slug, login string) []string {
				return append([]string{"create", "--slug", slug, "--name", slug + " 生鲜", "--owner-login", login}, common...)
			}
			for pw, why := range map[string]string{
				"short1":           "at least 10 characters",
				"north-owner-2026": "must not contain the login",
				"onlylowercase":    "Mix at least two kinds",
				"password123":      "too common",
			} {
				if _, err := cli(t, pw+"\n", create("north", "north-owner")...); err == nil || !strings.Contains(err.Error(), why) {
					t.Fatalf("password %q: %v, want a refusal saying %q", pw, err, why)
				}
			}
			mustCLI(t, "Fresh-Harbour-42\n", create("north", "north-owner")...)
			t.Setenv("SHELFLIVE_OWNER_PASSWORD", "Quiet-Orchard-77")
			mustCLI(t, "", create("south", "south-owner")...)
			if _, err := cli(t, "", create("north", "someone-else")...); err == nil || !strings.Contains(err.Error(), "already taken") {
				t.Fatalf("second north: %v", err)
			}
			if _, err := cli(t, "", create("east", "south-owner")...); err == nil || !strings.Contains(err.Error(), "already taken") {
				t.Fatalf("taken owner login: %v", err)
			}
			list := mustCLI(t, "", append([]string{"list"}, common...)...)
			if !strings.Contains(list, "north") || !strings.Contains(list, "south") || strings.Contains(list, "east") || strings.Count(list, "open") != 2 {
				t.Fatalf("list:\n%s", list)
			}

			extra := []string{"-demo=false"}
			if dbURL != "" {
				extra = append(extra, "-database-url", dbURL)
			}
			m := testkit.StartNode(t, dir, extra...)
			if m.SetupToken != "" {
				t.Fatal("a setup token was made although merchants exist")
			}
			anon := &testkit.Client{Base: m.URL()}
			if st, code := apiCall(t, anon, "POST", "/api/v1/setup", map[string]string{"setup_token": "x", "slug": "west", "name": "w", "owner_login": "west-owner", "password": "Fresh-Harbour-42"}); st != 410 || code != "setup_closed" {
				t.Fatalf("setup with merchants: %d %s", st, code)
			}
			north := staffClient(t, m, "north-owner", "Fresh-Harbour-42")
			south := staffClient(t, m, "south-owner", "Quiet-Orchard-77")

			// Isolated as every tenant: north's store is not south's.
			var store struct{ ID int64 }
			if st := north.Do(t, "POST", "/api/v1/stores", map[string]any{"name": "北门店", "address": "北京路 1 号", "lat": 31.2, "lng": 121.4}, &store); st != 201 {
				t.Fatalf("north creates a store: %d", st)
			}
			var stores struct{ Stores []struct{ ID int64 } }
			south.Do(t, "GET", "/api/v1/stores", nil, &stores)
			for _, s := range stores.Stores {
				if s.ID == store.ID {
					t.Fatal("south sees north's store")
				}
			}
			for _, c := range []struct {
				who  *testkit.Client
				slug string
			}{{north, "north-live"}, {south, "south-live"}} {
				if st := c.who.Do(t, "POST", "/api/v1/rooms", map[string]any{"slug": c.slug, "title": "今日鲜货"}, nil); st != 201 {
					t.Fatalf("create room %s: %d", c.slug, st)
				}
			}
			if st, _ := apiCall(t, anon, "GET", "/api/v1/rooms/north-live", nil); st != 200 {
				t.Fatalf("north's room before disable: %d", st)
			}
			var otp struct {
				DevCode string `json:"dev_code"`
			}
			if st := anon.Do(t, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "north", "phone": "13800000001"}, &otp); st != 200 {
				t.Fatalf("north viewer otp: %d", st)
			}

			out := mustCLI(t, "", append([]string{"disable", "north"}, common...)...)
			if !strings.Contains(out, "disabled") {
				t.Fatalf("disable said %q", out)
			}
			if list := mustCLI(t, "", append([]string{"list"}, common...)...); !strings.Contains(list, "disabled") {
				t.Fatalf("list after disable:\n%s", list)
			}
			// The CLI ran in another process (here: another service): this
			// node's session cache gives the session up within its 5 s.
			testkit.WaitFor(t, "north's owner refused", 10*time.Second, func() bool {
				st, code := apiCall(t, north, "GET", "/api/v1/stores", nil)
				return st == 403 && code == "merchant_disabled"
			})
			if st, code := apiCall(t, anon, "POST", "/api/v1/auth/login", map[string]string{"login": "north-owner", "password": "Fresh-Harbour-42"}); st != 403 || code != "merchant_disabled" {
				t.Fatalf("north owner login after disable: %d %s", st, code)
			}
			if st, code := apiCall(t, anon, "POST", "/api/v1/auth/otp", map[string]string{"merchant": "north", "phone": "13800000001"}); st != 410 || code != "shop_closed" {
				t.Fatalf("north viewer otp after disable: %d %s", st, code)
			}
			if st, code := apiCall(t, anon, "GET", "/api/v1/rooms/north-live", nil); st != 410 || code != "shop_closed" {
				t.Fatalf("north's room after disable: %d %s", st, code)
			}
			// South trades on.
			if st, _ := apiCall(t, south, "GET", "/api/v1/stores", nil); st != 200 {
				t.Fatalf("south after north was disabled: %d", st)
			}
			if st, _ := apiCall(t, anon, "GET", "/api/v1/rooms/south-live", nil); st != 200 {
				t.Fatalf("south's room: %d", st)
			}
		})
	}
}
