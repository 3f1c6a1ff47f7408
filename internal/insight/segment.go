package insight

import (
	"context"
	"sync"
	"time"

	"github.com/go-ego/gse"
)

// Segmenter cuts Chinese text into words with gse's simplified-Chinese
// dictionary plus the catalogue's own words (names, specs, aliases). The
// dictionary takes seconds to load and ~130 MB of heap, so it is loaded
// once, in the background (Load), and every user waits for Ready; the
// room's requests never do, because only the insight worker and the
// classify API cut text.
type Segmenter struct {
	once  sync.Once
	ready chan struct{}
	mu    sync.RWMutex // gse's dictionary is not safe for adding words while cutting
	seg   gse.Segmenter
	added map[string]bool
	took  time.Duration
	err   error
}

// NewSegmenter returns a segmenter whose dictionary is not loaded yet.
func NewSegmenter() *Segmenter {
	return &Segmenter{ready: make(chan struct{}), added: map[string]bool{}}
}

// Load reads the dictionary once; later calls return at once.
func (s *Segmenter) Load() {
	s.once.Do(func() {
		start := time.Now()
		s.seg.SkipLog = true
		s.err = s.seg.LoadDictEmbed("zh_s")
		for _, w := range domainWords {
			s.seg.AddToken(w, 20000, "n")
		}
		s.took = time.Since(start)
		close(s.ready)
	})
}

// Wait blocks until the dictionary is loaded (starting the load if nobody
// has) or ctx ends.
func (s *Segmenter) Wait(ctx context.Context) error {
	go s.Load()
	select {
	case <-s.ready:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready reports whether the dictionary is loaded.
func (s *Segmenter) Ready() bool {
	select {
	case <-s.ready:
		return s.err == nil
	default:
		return false
	}
}

// LoadTime is how long the dictionary took to load (0 before).
func (s *Segmenter) LoadTime() time.Duration {
	select {
	case <-s.ready:
		return s.took
	default:
		return 0
	}
}

// AddWords puts catalogue words into the dictionary so a product's name or
// alias comes out as one word. Call after Wait.
func (s *Segmenter) AddWords(words []string) {
	s.mu.RLock()
	missing := false
	for _, w := range words {
		if !s.added[w] {
			missing = true
			break
		}
	}
	s.mu.RUnlock()
	if !missing {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range words {
		if w == "" || s.added[w] {
			continue
		}
		s.seg.AddToken(w, 50000, "nz")
		s.added[w] = true
	}
}

// Cut splits text into words (dictionary DAG, HMM for unknown words).
// Call after Wait.
func (s *Segmenter) Cut(text string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seg.Cut(text, true)
}

// CutName splits a product name into the words it is made of, also inside
// words the catalogue taught the dictionary (丹东99草莓 → 丹东, 草莓, …):
// Cut returns such a name whole once AddWords has run, so an index rebuilt
// later would lose 草莓 as a way to name it. Call after Wait.
func (s *Segmenter) CutName(text string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seg.CutSearch(text, true)
}
