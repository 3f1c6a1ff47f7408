package video

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/objstore"
)

// Recordings in the object store (Config.Store) use the on-disk layout as
// keys: video/{slug}/{recID}/journal and video/{slug}/{recID}/000001.ts.
//
// Recording always writes to the local disk first (the live HLS playlist
// reads those files, and a slow store must never stall a publisher). A
// mirror copies each closed segment, then the journal as it was at that
// moment, in the background: one worker, a bounded queue, retries with
// backoff. Nothing is lost when that fails: the local files stay, and the
// recording is reconciled with the store (every local file whose copy is
// missing or shorter is uploaded) when it ends, when the queue overflowed,
// and for every unmirrored recording at startup.

func recKey(slug, recID string) string { return path.Join("video", slug, recID) }

// mirroredMarker is written into a local recording directory once an ended
// recording is completely in the store, so startup skips it.
const mirroredMarker = ".mirrored"

// mirrorQueue bounds the copies waiting for the worker (two per segment).
const mirrorQueue = 512

// mirrorJob copies one file of a recording. size is how many bytes of it to
// copy (the journal as it was when the job was queued, so the journal in
// the store never lists a segment queued after it), or -1 for all.
type mirrorJob struct {
	slug, recID, file string
	size              int64
}

// mirror copies recording files to the object store in the background.
type mirror struct {
	store   objstore.Store
	dataDir string
	log     *slog.Logger
	backoff time.Duration // first retry delay; doubles per attempt
	tries   int

	jobs     chan mirrorJob
	wake     chan struct{} // a reconcile was requested
	stopping chan struct{}
	done     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc

	mu     sync.Mutex
	syncs  map[[2]string]struct{} // recordings (slug, recID) to reconcile
	closed bool
}

func newMirror(store objstore.Store, dataDir string, log *slog.Logger) *mirror {
	ctx, cancel := context.WithCancel(context.Background())
	m := &mirror{
		store: store, dataDir: dataDir, log: log, backoff: 500 * time.Millisecond, tries: 6,
		jobs: make(chan mirrorJob, mirrorQueue), wake: make(chan struct{}, 1),
		stopping: make(chan struct{}), done: make(chan struct{}), ctx: ctx, cancel: cancel,
		syncs: make(map[[2]string]struct{}),
	}
	go m.run()
	return m
}

// segment queues a closed segment and then the journal (jsize bytes) that
// lists it. A nil mirror does nothing (no object store configured).
func (m *mirror) segment(slug, recID string, seq int, jsize int64) {
	if m == nil {
		return
	}
	// A journal in the store must never list a segment the store lacks: when
	// the segment's job is dropped, so is the journal's (reconcile does both).
	if m.enqueue(mirrorJob{slug: slug, recID: recID, file: segInfo{Seq: seq}.file(), size: -1}) {
		m.journal(slug, recID, jsize)
	}
}

// journal queues the first jsize bytes of a recording's journal.
func (m *mirror) journal(slug, recID string, jsize int64) {
	if m == nil {
		return
	}
	m.enqueue(mirrorJob{slug: slug, recID: recID, file: "journal", size: jsize})
}

// enqueue never blocks the publisher: when the queue is full the job is
// dropped (false) and the recording reconciled later instead.
func (m *mirror) enqueue(j mirrorJob) bool {
	select {
	case m.jobs <- j:
		return true
	default:
		m.log.Warn("video: object store upload queue full; the recording is copied when it drains", "slug", j.slug, "recording", j.recID)
		m.reconcileLater(j.slug, j.recID)
		return false
	}
}

// reconcileLater asks the worker to compare a recording with the store
// once the queue is empty.
func (m *mirror) reconcileLater(slug, recID string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.syncs[[2]string{slug, recID}] = struct{}{}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mirror) nextSync() (slug, recID string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.syncs {
		delete(m.syncs, k)
		return k[0], k[1], true
	}
	return "", "", false
}

// run is the worker: queued copies first, then reconciles; on close it
// finishes both (bounded by close's timeout).
func (m *mirror) run() {
	defer close(m.done)
	for {
		select {
		case j := <-m.jobs:
			m.copyFile(j)
			continue
		default:
		}
		if slug, recID, ok := m.nextSync(); ok {
			m.reconcile(slug, recID)
			continue
		}
		select {
		case j := <-m.jobs:
			m.copyFile(j)
		case <-m.wake:
		case <-m.stopping:
			if len(m.jobs) == 0 {
				return
			}
		}
	}
}

// close lets the worker finish what is queued, waiting at most timeout;
// what is left is reconciled at the next start.
func (m *mirror) close(timeout time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stopping)
	select {
	case <-m.done:
	case <-time.After(timeout):
		m.log.Warn("video: object store uploads unfinished at shutdown; they resume at the next start")
		m.cancel()
		<-m.done
	}
	m.cancel()
}

// retry runs op until it succeeds, tries run out or the mirror is cancelled.
func (m *mirror) retry(what string, op func(ctx context.Context) error) error {
	wait := m.backoff
	var err error
	for i := 0; i < m.tries; i++ {
		ctx, cancel := context.WithTimeout(m.ctx, time.Minute)
		err = op(ctx)
		cancel()
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return err
		}
		if i == m.tries-1 {
			break
		}
		select {
		case <-time.After(wait):
		case <-m.ctx.Done():
			return err
		}
		wait *= 2
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (m *mirror) copyFile(j mirrorJob) {
	err := m.retry("upload", func(ctx context.Context) error { return m.upload(ctx, j) })
	if err != nil {
		m.log.Error("video: copying a recording file to the object store failed; the local copy stays",
			"slug", j.slug, "recording", j.recID, "file", j.file, "err", err)
	}
}

// upload copies one local file (its first j.size bytes when j.size >= 0).
func (m *mirror) upload(ctx context.Context, j mirrorJob) error {
	f, err := os.Open(filepath.Join(recDir(m.dataDir, j.slug, j.recID), j.file))
	if err != nil {
		return err
	}
	defer f.Close()
	size := j.size
	if size < 0 {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		size = fi.Size()
	}
	ctype := "video/mp2t"
	if j.file == "journal" {
		ctype = "text/plain; charset=utf-8"
	}
	return m.store.Put(ctx, recKey(j.slug, j.recID)+"/"+j.file, io.NewSectionReader(f, 0, size), size, ctype)
}

// reconcile brings a recording's copy in the store up to date: it takes
// the journal's size first, uploads every segment the journal lists (a
// segment is listed only once it is closed, so never a half-written one,
// even while the live goes on), then exactly that many journal bytes — so
// the store's journal never lists a segment the store lacks. An ended
// recording is then marked as mirrored.
func (m *mirror) reconcile(slug, recID string) {
	dir := recDir(m.dataDir, slug, recID)
	ji, err := os.Stat(filepath.Join(dir, "journal"))
	if err != nil {
		return
	}
	rf, err := readRecording(m.dataDir, slug, recID) // read after the stat: lists at least what those bytes list
	if err != nil {
		return
	}
	var remote []objstore.Info
	err = m.retry("list", func(ctx context.Context) error {
		var err error
		remote, err = m.store.List(ctx, recKey(slug, recID)+"/")
		return err
	})
	if err != nil {
		m.log.Error("video: listing a recording in the object store failed; it is retried at the next start", "slug", slug, "recording", recID, "err", err)
		return
	}
	have := make(map[string]int64, len(remote))
	for _, o := range remote {
		have[path.Base(o.Key)] = o.Size
	}
	put := func(name string, size int64) bool {
		if n, found := have[name]; found && n >= size {
			return true
		}
		j := mirrorJob{slug: slug, recID: recID, file: name, size: size}
		if err := m.retry("upload", func(ctx context.Context) error { return m.upload(ctx, j) }); err != nil {
			m.log.Error("video: copying a recording file to the object store failed; it is retried at the next start",
				"slug", slug, "recording", recID, "file", name, "err", err)
			return false
		}
		return true
	}
	for _, seg := range rf.Segs {
		fi, err := os.Stat(filepath.Join(dir, seg.file()))
		if err != nil || !put(seg.file(), fi.Size()) {
			return // the journal waits until every segment it lists is in the store
		}
	}
	if put("journal", ji.Size()) && rf.Ended {
		if now, err := os.Stat(filepath.Join(dir, "journal")); err == nil && now.Size() == ji.Size() {
			os.WriteFile(filepath.Join(dir, mirroredMarker), nil, 0o644) // the copied bytes hold the end line
		}
	}
}

// catchUp queues every local recording not yet marked as mirrored (ended
// before the store was configured, or cut off by a crash or shutdown).
func (m *mirror) catchUp() {
	rooms, err := os.ReadDir(videoDir(m.dataDir))
	if err != nil {
		return
	}
	for _, room := range rooms {
		if !room.IsDir() || !ValidSlug(room.Name()) {
			continue
		}
		recs, _ := os.ReadDir(filepath.Join(videoDir(m.dataDir), room.Name()))
		for _, r := range recs {
			if !r.IsDir() || !recIDRe.MatchString(r.Name()) {
				continue
			}
			if _, err := os.Stat(filepath.Join(recDir(m.dataDir, room.Name(), r.Name()), mirroredMarker)); err == nil {
				continue
			}
			m.reconcileLater(room.Name(), r.Name())
		}
	}
}
