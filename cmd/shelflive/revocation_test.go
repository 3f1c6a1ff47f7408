package main

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestRevocationAcrossNodes: two nodes on one PostgreSQL and NATS. Node B
// trusts a session it looked up for an hour (-session-cache 1h), so only
// the revocation published over NATS can end it there: a password change,
// a logout, a disable made on node A, and `shelflive merchant disable`
// (a separate process), each end the sessions on B at once.
func TestRevocationAcrossNodes(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	var b [4]byte
	rand.Read(b[:])
	prefix := "rv" + hex.EncodeToString(b[:])
	t.Cleanup(func() { deleteNATSStream(natsURL, prefix) })
	args := []string{"-database-url", dbURL, "-nats-url", natsURL, "-nats-prefix", prefix, "-session-cache", "1h"}
	nodeA := testkit.StartNode(t, "", args...)
	nodeB := testkit.StartNode(t, "", args...)

	onA := func(tok string) *testkit.Client { return &testkit.Client{Base: nodeA.URL(), Token: tok} }
	onB := func(tok string) *testkit.Client { return &testkit.Client{Base: nodeB.URL(), Token: tok} }
	owner := onA(testkit.OwnerToken)
	if st := owner.Do(t, "POST", "/api/v1/staff", map[string]any{"username": "roaming-host", "name": "两台", "role": "host", "password": "Two-Nodes-4455"}, nil); st != 201 {
		t.Fatalf("create host: %d", st)
	}
	login := func() string { return staffClient(t, nodeA, "roaming-host", "Two-Nodes-4455").Token }
	// cached on B: the session is looked up there once and then trusted for an hour
	cachedOnB := func(tok string) {
		t.Helper()
		if st, _ := apiCall(t, onB(tok), "GET", "/api/v1/rooms", nil); st != 200 {
			t.Fatalf("session on node B: %d", st)
		}
	}
	endsOnB := func(what, tok string) {
		t.Helper()
		testkit.WaitFor(t, what+" reaching node B", 10*time.Second, func() bool {
			st, _ := apiCall(t, onB(tok), "GET", "/api/v1/rooms", nil)
			return st == 401 || st == 403
		})
	}

	// Password change on A: the other session ends on B, this one lives.
	keep, other := login(), login()
	cachedOnB(keep)
	cachedOnB(other)
	if st, code := apiCall(t, onA(keep), "POST", "/api/v1/auth/password", map[string]string{"current_password": "Two-Nodes-4455", "new_password": "Two-Nodes-6677"}); st != 204 {
		t.Fatalf("change password: %d %s", st, code)
	}
	endsOnB("password change", other)
	cachedOnB(keep)

	// Logout on A.
	out := staffClient(t, nodeA, "roaming-host", "Two-Nodes-6677").Token
	cachedOnB(out)
	if st, _ := apiCall(t, onA(out), "POST", "/api/v1/auth/logout", nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	endsOnB("logout", out)

	// Disabled by the owner on A.
	var list struct {
		Staff []struct {
			ID       int64
			Username string
		}
	}
	owner.Do(t, "GET", "/api/v1/staff", nil, &list)
	var id int64
	for _, s := range list.Staff {
		if s.Username == "roaming-host" {
			id = s.ID
		}
	}
	if st := owner.Do(t, "PUT", "/api/v1/staff/"+strconv.FormatInt(id, 10), map[string]any{"name": "两台", "role": "host", "disabled": true}, nil); st != 200 {
		t.Fatalf("disable: %d", st)
	}
	endsOnB("disable", keep)

	// The whole merchant disabled from the shell: the CLI publishes too.
	ownerOnB := onB(testkit.OwnerToken)
	if st, _ := apiCall(t, ownerOnB, "GET", "/api/v1/rooms", nil); st != 200 {
		t.Fatalf("owner token on B: %d", st)
	}
	t.Setenv("SHELFLIVE_NATS_PREFIX", prefix)
	mustCLI(t, "", "disable", "demo", "--database-url", dbURL, "--nats-url", natsURL)
	testkit.WaitFor(t, "merchant disable reaching node B", 10*time.Second, func() bool {
		st, code := apiCall(t, ownerOnB, "GET", "/api/v1/rooms", nil)
		return st == 403 && code == "merchant_disabled"
	})
}
