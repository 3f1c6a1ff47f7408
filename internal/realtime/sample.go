package realtime

import (
	"math/rand/v2"
	"slices"
)

// sampleComments picks which of one tick's comments go into the shared batch frame
// and returns their indices in arrival order.
//
// Rules: host comments are always kept (even beyond max); the remaining slots are
// filled uniformly at random, first with at most one comment per author (so one
// fast typist cannot crowd out the room), then with the rest. Uniform random choice
// means every comment has the same chance to be shown whatever its arrival time.
func sampleComments(cs []Comment, max int) []int {
	n := len(cs)
	keep := make([]int, 0, min(n, max)+2)
	if n <= max {
		for i := range cs {
			keep = append(keep, i)
		}
		return keep
	}
	cand := make([]int, 0, n)
	for i, c := range cs {
		if c.Host {
			keep = append(keep, i)
		} else {
			cand = append(cand, i)
		}
	}
	slots := max - len(keep)
	if slots <= 0 {
		return keep // already sorted: host comments in arrival order
	}
	rand.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
	authors := make(map[string]bool, slots)
	taken := 0
	for k, i := range cand {
		if taken == slots {
			break
		}
		if u := cs[i].User; u == "" || !authors[u] {
			if u != "" {
				authors[u] = true
			}
			keep = append(keep, i)
			cand[k] = -1
			taken++
		}
	}
	for _, i := range cand {
		if taken == slots {
			break
		}
		if i >= 0 {
			keep = append(keep, i)
			taken++
		}
	}
	slices.Sort(keep)
	return keep
}
