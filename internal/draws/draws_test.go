package draws_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
)

const seed = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// TestWinnersGolden pins the documented algorithm: a change to it (and so
// to what `shelflive draw verify` computes) fails here.
func TestWinnersGolden(t *testing.T) {
	c, err := draws.Commitment(seed)
	if err != nil || c != "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd" {
		t.Fatalf("commitment %s %v", c, err)
	}
	got, err := draws.Winners(seed, []int64{10, 3, 7, 1, 5, 9, 2, 8, 6, 4, 7}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := golden
	if !slices.Equal(got, want) {
		t.Fatalf("winners %v, want %v", got, want)
	}
}

// golden is the documented example (docs/PROTOCOL.md "福袋 draws").
var golden = []int64{4, 6, 10} // also computed by an independent Python reading of the spec

// TestWinnersProperties: for random entry sets and seeds, the winners are
// min(k, n) distinct entrants, the same whatever order the entries come
// in, and Verify recomputes them from the revealed seed and agrees with
// the commitment; a wrong seed, a changed entry list or a tampered winner
// list does not verify.
func TestWinnersProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2))
	for i := range 300 {
		s, c := draws.NewSeed()
		n := rng.IntN(60)
		entries := make([]int64, n)
		for j := range entries {
			entries[j] = 1 + rng.Int64N(500)
		}
		k := 1 + rng.IntN(10)
		w, err := draws.Winners(s, entries, k)
		if err != nil {
			t.Fatal(err)
		}
		uniq := draws.Normalize(entries)
		if len(w) != min(k, len(uniq)) {
			t.Fatalf("case %d: %d winners of %d entries, k %d", i, len(w), len(uniq), k)
		}
		seen := map[int64]bool{}
		for _, id := range w {
			if seen[id] || !slices.Contains(uniq, id) {
				t.Fatalf("case %d: winner %d repeated or not an entrant", i, id)
			}
			seen[id] = true
		}
		shuffled := slices.Clone(entries)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		v, err := draws.Verify(s, c, shuffled, k, w)
		if err != nil || !v.CommitmentOK || !v.Match {
			t.Fatalf("case %d: verify %+v %v", i, v, err)
		}
		other, _ := draws.NewSeed()
		if v, _ := draws.Verify(other, c, entries, k, w); v.CommitmentOK {
			t.Fatalf("case %d: another seed matched the commitment", i)
		}
		if len(uniq) > k && len(w) > 0 {
			// Adding an entrant changes D and so redraws from scratch: a
			// small draw (k 1 of 3) may land on the same winners by chance,
			// so the list binds the winners when some of 20 additions
			// change them (all 20 matching by chance: below 1e-9).
			bound := false
			for extra := range int64(20) {
				if v, _ := draws.Verify(s, c, append(slices.Clone(uniq), 10_000+extra), k, w); !v.Match {
					bound = true
					break
				}
			}
			if !bound {
				t.Fatalf("case %d: the entry list does not bind the winners", i)
			}
		}
	}
	if _, err := draws.Winners("abc", []int64{1}, 1); !errors.Is(err, draws.ErrSeed) {
		t.Fatalf("short seed: %v", err)
	}
}

// TestWinnersFair: over many seeds each of 8 entrants wins the single
// prize about equally often.
func TestWinnersFair(t *testing.T) {
	counts := map[int64]int{}
	const runs = 8000
	for i := range runs {
		s := fmt.Sprintf("%064x", i)
		w, _ := draws.Winners(s, []int64{1, 2, 3, 4, 5, 6, 7, 8}, 1)
		counts[w[0]]++
	}
	for id, c := range counts {
		if c < runs/8*80/100 || c > runs/8*120/100 {
			t.Fatalf("entrant %d won %d of %d draws (expected about %d): %v", id, c, runs, runs/8, counts)
		}
	}
}

func TestExclude(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	old := t0.Add(-30 * 24 * time.Hour)
	var es []draws.Entrant
	// A real viewer, and a second account on the same phone.
	es = append(es, draws.Entrant{CustomerID: 1, Device: "d1", EnteredAt: t0, AccountCreatedAt: old})
	es = append(es, draws.Entrant{CustomerID: 2, Device: "d1", EnteredAt: t0.Add(time.Second), AccountCreatedAt: old})
	opened := t0.Add(-10 * time.Minute)
	// Six accounts made in one minute after the draw opened: bulk.
	for i := range 6 {
		es = append(es, draws.Entrant{CustomerID: int64(10 + i), Device: fmt.Sprint("b", i), EnteredAt: t0.Add(2 * time.Minute), AccountCreatedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	// Six made in one minute before it opened are regulars.
	for i := range 6 {
		es = append(es, draws.Entrant{CustomerID: int64(40 + i), Device: fmt.Sprint("r", i), EnteredAt: t0.Add(2 * time.Minute), AccountCreatedAt: opened.Add(-time.Minute + time.Duration(i)*time.Second)})
	}
	// A new account alone in its minute is fine.
	es = append(es, draws.Entrant{CustomerID: 30, Device: "n", EnteredAt: t0, AccountCreatedAt: t0.Add(-time.Minute - 30*time.Second)})
	ex := draws.Exclude(es, opened)
	if ex[1] != "" || ex[2] != "same_device" || ex[30] != "" || ex[40] != "" || len(ex) != 7 {
		t.Fatalf("device rule: %v", ex)
	}
	for i := range 6 {
		if ex[int64(10+i)] != "bulk_new_account" {
			t.Fatalf("bulk rule: %v", ex)
		}
	}
}
