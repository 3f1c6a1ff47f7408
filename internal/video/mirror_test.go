package video

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/objstore/s3test"
)

// recordAAC writes ~3 s of AAC through a recorder (no ffmpeg needed) and
// returns the recording ID.
func recordAAC(t *testing.T, dir string, mir *mirror) string {
	t.Helper()
	conf := &mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 44100, ChannelCount: 1}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := newRecorder(log, dir, "room", time.Now(), time.Second, false, nil, nil, conf, func(segInfo) {}, mir)
	if err != nil {
		t.Fatal(err)
	}
	frame := 1024 * time.Second / 44100
	au := []byte{0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}
	for i := range 130 {
		if err := r.writeAAC(time.Duration(i)*frame, au); err != nil {
			t.Fatalf("recording stopped: %v", err)
		}
	}
	if err := r.close(); err != nil {
		t.Fatalf("recording stopped: %v", err)
	}
	return r.id
}

// TestMirrorStoreDown: with the object store unreachable, recording goes
// on locally and the failure is logged; the local files stay and are
// copied once a store answers (at the next start).
func TestMirrorStoreDown(t *testing.T) {
	dir := t.TempDir()
	// A store every write to fails at once: its directory is under a file.
	// (An unreachable S3 fails the same way, only slower.)
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	var logs bytes.Buffer
	mir := newMirror(objstore.NewLocal(filepath.Join(notDir, "store")), dir, slog.New(slog.NewTextHandler(&logs, nil)))
	mir.backoff, mir.tries = time.Millisecond, 3
	id := recordAAC(t, dir, mir)
	mir.close(10 * time.Second)
	if !strings.Contains(logs.String(), "copying a recording file to the object store failed") {
		t.Fatalf("failure not logged:\n%s", logs.String())
	}
	local := filepath.Join(recDir(dir, "room", id))
	if _, err := os.Stat(filepath.Join(local, "000003.ts")); err != nil {
		t.Fatalf("local recording incomplete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(local, mirroredMarker)); err == nil {
		t.Fatal("marked as mirrored although nothing was copied")
	}

	up := s3test.Start(t, "media")
	store, err := objstore.Open(up.URL(""), "")
	if err != nil {
		t.Fatal(err)
	}
	mir = newMirror(store, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mir.catchUp()
	mir.close(10 * time.Second) // finishes the queued reconcile
	list, err := store.List(context.Background(), recKey("room", id)+"/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list {
		keys = append(keys, filepath.Base(o.Key))
	}
	if got := strings.Join(keys, ","); got != "000001.ts,000002.ts,000003.ts,journal" {
		t.Fatalf("stored after recovery: %s", got)
	}
	if _, err := os.Stat(filepath.Join(local, mirroredMarker)); err != nil {
		t.Fatalf("not marked as mirrored: %v", err)
	}
}

// TestMirrorJournalPrefix: the journal copied with a segment is the
// journal as it was then, so the store never lists a segment before it is
// there.
func TestMirrorJournalPrefix(t *testing.T) {
	dir := t.TempDir()
	store := objstore.NewLocal(t.TempDir())
	mir := newMirror(store, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	id := recordAAC(t, dir, nil) // recorded without a mirror
	full, _ := os.ReadFile(filepath.Join(recDir(dir, "room", id), "journal"))
	firstLine := int64(bytes.IndexByte(full, '\n') + 1)
	mir.journal("room", id, firstLine)
	mir.close(10 * time.Second)
	rc, _, err := store.Get(context.Background(), recKey("room", id)+"/journal")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(full[:firstLine]) || !strings.HasPrefix(string(got), "rec\t") {
		t.Fatalf("stored journal %q, want only %q", got, full[:firstLine])
	}
}

// TestMirrorReconcileDuringLive: reconciling a recording that is still
// being written copies only the segments its journal lists — never the
// segment still being cut — and then exactly the journal bytes it read, so
// the store's journal never names a segment the store lacks.
func TestMirrorReconcileDuringLive(t *testing.T) {
	dir := t.TempDir()
	store := objstore.NewLocal(t.TempDir())
	id := recordAAC(t, dir, nil)
	rdir := recDir(dir, "room", id)
	full, _ := os.ReadFile(filepath.Join(rdir, "journal"))
	lines := strings.SplitAfter(string(full), "\n")
	if len(lines) < 4 {
		t.Fatalf("journal too short for the test: %q", full)
	}
	// Mid-live: the journal lists the first segment only; the next one is
	// on disk, half written, and not listed yet.
	live := lines[0] + lines[1]
	os.WriteFile(filepath.Join(rdir, "journal"), []byte(live), 0o644)
	os.WriteFile(filepath.Join(rdir, "000099.ts"), []byte("half a segment"), 0o644)
	rf, err := readRecording(dir, "room", id)
	if err != nil || len(rf.Segs) != 1 || rf.Ended {
		t.Fatalf("mid-live journal parses as %+v, %v", rf, err)
	}
	mir := newMirror(store, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mir.reconcileLater("room", id)
	mir.close(10 * time.Second)

	list, err := store.List(context.Background(), recKey("room", id)+"/")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range list {
		got[path.Base(o.Key)] = true
	}
	if !got[rf.Segs[0].file()] || !got["journal"] || got["000099.ts"] || len(got) != 2 {
		t.Fatalf("store holds %v; want the listed segment %s and the journal only", got, rf.Segs[0].file())
	}
	rc, _, err := store.Get(context.Background(), recKey("room", id)+"/journal")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	if string(stored) != live {
		t.Fatalf("stored journal %q, want %q", stored, live)
	}
	if _, err := os.Stat(filepath.Join(rdir, mirroredMarker)); err == nil {
		t.Fatal("a recording still being written was marked as mirrored")
	}
}
