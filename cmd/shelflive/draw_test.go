package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelflive/shelflive/internal/draws"
)

// TestDrawVerify: `shelflive draw verify` recomputes the winners from the
// revealed seed and an entries file, and from a draw's URL; a tampered
// winner list or a seed that does not match the commitment fails.
func TestDrawVerify(t *testing.T) {
	seed, commitment := draws.NewSeed()
	entries := []int64{42, 7, 19, 3, 88, 61, 25}
	winners, err := draws.Winners(seed, entries, 3)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "entries.txt")
	os.WriteFile(file, []byte("42\n7\n19\n3\n88\n61\n25\n"), 0o600)
	var out bytes.Buffer
	expect := strings.Trim(strings.Join(strings.Fields(strings.Trim(jsonOf(winners), "[]")), ""), " ")
	if err := runDraw(context.Background(), []string{"verify", "--seed", seed, "--commitment", commitment, "--entries", file, "--winners", "3", "--expect", expect}, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var v draws.Verification
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &v); err != nil || !v.Match || !v.CommitmentOK {
		t.Fatalf("last line %q: %+v %v", lines[len(lines)-1], v, err)
	}
	other, _ := draws.NewSeed()
	if err := runDraw(context.Background(), []string{"verify", "--seed", other, "--commitment", commitment, "--entries", file, "--winners", "3"}, &bytes.Buffer{}); err == nil {
		t.Fatal("a seed that does not match the commitment verified")
	}
	tampered := append([]int64{winners[1], winners[0]}, winners[2:]...)
	// Against a server's published result.
	res := draws.Result{Draw: draws.Draw{ID: 7, Winners: 3, Seed: seed, Commitment: commitment, Status: draws.Drawn}}
	for _, id := range entries {
		res.Entries = append(res.Entries, draws.Entrant{CustomerID: id})
	}
	for i, id := range tampered {
		res.Winners = append(res.Winners, draws.Winner{CustomerID: id, Position: i + 1})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(res) }))
	defer srv.Close()
	if err := runDraw(context.Background(), []string{"verify", "--url", srv.URL + "/api/v1/draws/7"}, &bytes.Buffer{}); err == nil {
		t.Fatal("a tampered winner list verified")
	}
	for i, id := range winners {
		res.Winners[i].CustomerID = id
	}
	out.Reset()
	if err := runDraw(context.Background(), []string{"verify", "--url", srv.URL + "/api/v1/draws/7"}, &out); err != nil {
		t.Fatalf("the published draw did not verify: %v\n%s", err, out.String())
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
