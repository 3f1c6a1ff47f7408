package insight

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// CommentJob is a stored comment waiting to be read, with what the room
// showed when it was written.
type CommentJob struct {
	CommentID, MerchantID, RoomID int64
	Pinned                        int64   // the card pinned when it was written
	Lineup                        []int64 // the room's products: the candidates
	Text                          string
	Staff                         bool
	At                            time.Time
}

// CommentInsight is what a comment is about, as stored.
type CommentInsight struct {
	CommentID  int64      `json:"comment_id"`
	MerchantID int64      `json:"-"`
	RoomID     int64      `json:"room_id"`
	ProductID  int64      `json:"product_id,omitempty"`
	SKUID      int64      `json:"sku_id,omitempty"`
	Intent     Intent     `json:"intent"`
	Sentiment  Sentiment  `json:"sentiment"`
	Staff      bool       `json:"staff,omitempty"`
	At         time.Time  `json:"at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	Text       string     `json:"text,omitempty"`   // filled when listed with the comment
	Author     string     `json:"author,omitempty"` // filled when listed with the comment
}

// CommentStore keeps comment insights.
type CommentStore interface {
	// SaveCommentInsights stores a batch; a host's comment about a product
	// marks the earlier open questions about it answered.
	SaveCommentInsights(ctx context.Context, cs []CommentInsight) error
}

// CatalogSource lists a merchant's products for attribution.
type CatalogSource func(ctx context.Context, merchantID int64) ([]CatalogProduct, error)

// Errors of the classify API.
var (
	ErrTooManyTexts = apperr.ErrInvalidTexts.With("texts 须为1到200条，每条最多200字", "texts: 1 to 200 strings of at most 200 characters.")
	ErrNotReady     = apperr.New(apperr.TooMany, "insight_loading", "分词词典加载中，请稍后再试", "The word dictionary is still loading; try again shortly.")
)

// Reader classifies comments off the hot path: PostComment queues a job
// (never blocking; a full queue drops and counts) and one goroutine reads
// them in batches once the dictionary is loaded. It keeps one index per
// merchant and lineup, rebuilt when older than IndexTTL so alias edits
// reach the room; the classify API always rebuilds it.
type Reader struct {
	Seg      *Segmenter
	Store    CommentStore
	Catalog  CatalogSource
	Logger   *slog.Logger
	IndexTTL time.Duration // default 30 s

	once    sync.Once
	q       chan CommentJob
	dropped atomic.Int64
	read    atomic.Int64
	mu      sync.Mutex
	indexes map[string]cachedIndex
}

type cachedIndex struct {
	ix    *Index
	built time.Time
}

func (r *Reader) init() {
	r.once.Do(func() {
		r.q = make(chan CommentJob, 4096)
		r.indexes = map[string]cachedIndex{}
		if r.IndexTTL <= 0 {
			r.IndexTTL = 30 * time.Second
		}
		if r.Logger == nil {
			r.Logger = slog.Default()
		}
	})
}

// Queue hands a comment to the reader; it returns at once.
func (r *Reader) Queue(j CommentJob) {
	if r == nil {
		return
	}
	r.init()
	select {
	case r.q <- j:
	default:
		r.dropped.Add(1)
	}
}

// Counts reports comments read and dropped.
func (r *Reader) Counts() (read, dropped int64) {
	if r == nil {
		return 0, 0
	}
	return r.read.Load(), r.dropped.Load()
}

// Run reads queued comments until ctx ends. The dictionary is loaded
// lazily: when the first comment arrives (or the classify API needs it), so
// a node nobody comments on never pays its seconds and ~130 MB.
func (r *Reader) Run(ctx context.Context) {
	r.init()
	var batch []CommentJob
	select {
	case <-ctx.Done():
		return
	case j := <-r.q:
		batch = append(batch, j)
	case <-r.Seg.ready:
	}
	if err := r.Seg.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			r.Logger.Error("insight: load dictionary", "err", err)
		}
		return
	}
	r.Logger.Info("insight: word dictionary loaded", "took", r.Seg.LoadTime().Round(time.Millisecond))
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-r.q:
			batch = append(batch, j)
			if len(batch) >= 256 {
				batch = r.process(ctx, batch)
			}
		case <-tick.C:
			batch = r.process(ctx, batch)
		}
	}
}

// Drain reads everything queued now (tests, the reports), unless the
// dictionary is still loading: then the queue is read when it is.
func (r *Reader) Drain(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.init()
	if !r.Seg.Ready() {
		return nil
	}
	var batch []CommentJob
	for {
		select {
		case j := <-r.q:
			batch = append(batch, j)
			continue
		default:
		}
		break
	}
	r.process(ctx, batch)
	return nil
}

func (r *Reader) process(ctx context.Context, batch []CommentJob) []CommentJob {
	if len(batch) == 0 {
		return batch
	}
	out := make([]CommentInsight, 0, len(batch))
	for _, j := range batch {
		ix, err := r.Index(ctx, j.MerchantID, j.Lineup)
		if err != nil {
			r.Logger.Error("insight: catalogue", "merchant", j.MerchantID, "err", err)
			continue
		}
		res := ix.Classify(r.Seg, j.Text, j.Pinned)
		ci := CommentInsight{CommentID: j.CommentID, MerchantID: j.MerchantID, RoomID: j.RoomID, Intent: res.Intent, Sentiment: res.Sentiment, Staff: j.Staff, At: j.At}
		if res.ProductID != nil {
			ci.ProductID = *res.ProductID
		} else if j.Staff {
			ci.ProductID = ix.About(j.Text, j.Pinned) // the host's answer counts for the product it is about
		}
		if res.SKUID != nil {
			ci.SKUID = *res.SKUID
		}
		out = append(out, ci)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.Store.SaveCommentInsights(wctx, out); err != nil {
		r.Logger.Error("insight: save comment insights", "n", len(out), "err", err)
	} else {
		r.read.Add(int64(len(out)))
	}
	return batch[:0]
}

// Index returns the attribution index of a merchant's products, limited to
// the candidates when given (a room's lineup).
func (r *Reader) Index(ctx context.Context, merchantID int64, candidates []int64) (*Index, error) {
	return r.index(ctx, merchantID, candidates, false)
}

// index is Index; fresh rebuilds it from the catalogue whatever its age
// (the classify API: a merchant who just saved an alias tries it at once).
func (r *Reader) index(ctx context.Context, merchantID int64, candidates []int64, fresh bool) (*Index, error) {
	r.init()
	ids := slices.Clone(candidates)
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString(strconv.FormatInt(merchantID, 10))
	for _, id := range ids {
		b.WriteByte(',')
		b.WriteString(strconv.FormatInt(id, 10))
	}
	k := b.String()
	r.mu.Lock()
	c, ok := r.indexes[k]
	r.mu.Unlock()
	if ok && !fresh && time.Since(c.built) < r.IndexTTL {
		return c.ix, nil
	}
	all, err := r.Catalog(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	ps := all
	if len(ids) > 0 {
		ps = nil
		for _, p := range all {
			if _, found := slices.BinarySearch(ids, p.ID); found {
				ps = append(ps, p)
			}
		}
	}
	ix := BuildIndex(r.Seg, ps)
	r.mu.Lock()
	if len(r.indexes) > 1000 {
		clear(r.indexes)
	}
	r.indexes[k] = cachedIndex{ix: ix, built: time.Now()}
	r.mu.Unlock()
	return ix, nil
}

// Classify answers the classify API: each text against the merchant's
// catalogue (or the candidates), nothing pinned. It waits for the
// dictionary at most until ctx ends.
func (r *Reader) Classify(ctx context.Context, merchantID int64, texts []string, candidates []int64) ([]Result, error) {
	if len(texts) == 0 || len(texts) > 200 {
		return nil, ErrTooManyTexts
	}
	for _, t := range texts {
		if len([]rune(t)) > 200 {
			return nil, ErrTooManyTexts
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := r.Seg.Wait(wctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrNotReady
	}
	ix, err := r.index(ctx, merchantID, candidates, true)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(texts))
	for i, t := range texts {
		out[i] = ix.Classify(r.Seg, t, 0)
	}
	return out, nil
}
