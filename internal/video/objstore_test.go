package video_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/objstore/s3test"
	"github.com/shelflive/shelflive/internal/video"
)

// TestReplayFromObjectStore: a live recorded on one node is copied to the
// object store (an S3 server over HTTP, real minio-go client) while it
// runs; a second server with an empty data dir lists that recording and
// serves its replay playlist and segments from the store.
func TestReplayFromObjectStore(t *testing.T) {
	t.Parallel()
	needTool(t, "ffprobe")
	ctx := context.Background()
	s3 := s3test.Start(t, "media")
	store, err := objstore.Open(s3.URL("cluster/"), "")
	if err != nil {
		t.Fatal(err)
	}
	dirA := t.TempDir()
	rooms := newTestRooms(map[string]string{"k-fish": "fish-room"})
	a := startServerWith(t, dirA, rooms, store)
	pub := startPublisher(t, a.rtmpURL("k-fish"), 5, false)
	waitFor(t, 20*time.Second, "room live", func() bool { return a.Status("fish-room").Live })

	stored := func(suffix string) int {
		list, err := store.List(ctx, "video/fish-room/")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range list {
			if strings.HasSuffix(o.Key, suffix) {
				n++
			}
		}
		return n
	}
	// Copies happen while live, not only at the end.
	waitFor(t, 15*time.Second, "segments in the store during the live", func() bool {
		return a.Status("fish-room").Live && stored(".ts") >= 2 && stored("/journal") == 1
	})

	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out)
	}
	waitFor(t, 15*time.Second, "StreamStopped", func() bool { return rooms.count("stopped:fish-room") == 1 })
	recs := a.Recordings("fish-room")
	if len(recs) != 1 || recs[0].InProgress {
		t.Fatalf("recordings on the recording node = %+v", recs)
	}
	rec := recs[0]
	journalKey := "video/fish-room/" + rec.ID + "/journal"
	waitFor(t, 15*time.Second, "the ended journal in the store", func() bool {
		rc, _, err := store.Get(ctx, journalKey)
		if errors.Is(err, objstore.ErrNotFound) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return strings.Contains(string(b), "\nend\t")
	})
	// every local file is in the store, byte for byte
	localDir := filepath.Join(dirA, "video", "fish-room", rec.ID)
	names := readDirNames(t, localDir)
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			continue
		}
		want, err := os.ReadFile(filepath.Join(localDir, name))
		if err != nil {
			t.Fatal(err)
		}
		rc, _, err := store.Get(ctx, "video/fish-room/"+rec.ID+"/"+name)
		if err != nil {
			t.Fatalf("%s not in the store: %v", name, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: stored %d bytes differ from the local %d", name, len(got), len(want))
		}
	}
	if stored(".ts") != rec.Segments {
		t.Fatalf("store holds %d segments, recording has %d", stored(".ts"), rec.Segments)
	}
	_, playlistA := httpGet(t, a.HTTP.URL+rec.ReplayURL)

	// A second node: own (empty) data dir, same store.
	dirB := t.TempDir()
	b := startServerWith(t, dirB, newTestRooms(nil), store)
	recsB := b.Recordings("fish-room")
	if len(recsB) != 1 || recsB[0].ID != rec.ID || recsB[0].Duration != rec.Duration || recsB[0].Segments != rec.Segments || recsB[0].InProgress {
		t.Fatalf("recordings on the other node = %+v, want %+v", recsB, rec)
	}
	code, playlistB := httpGet(t, b.HTTP.URL+rec.ReplayURL)
	if code != 200 || playlistB != playlistA || !strings.Contains(playlistB, "#EXT-X-ENDLIST") {
		t.Fatalf("replay playlist on the other node: %d\n%s\nwant\n%s", code, playlistB, playlistA)
	}
	if code, body := httpGet(t, b.HTTP.URL+rec.PlaylistURL); code != 200 || !strings.Contains(body, "#EXT-X-ENDLIST") {
		t.Fatalf("recording playlist on the other node: %d\n%s", code, body)
	}
	first := regexp.MustCompile(`(?m)^\S+_000001\.ts$`).FindString(playlistB)
	if first == "" {
		t.Fatalf("no first segment in\n%s", playlistB)
	}
	want, _ := os.ReadFile(filepath.Join(localDir, "000001.ts"))
	segURL := b.HTTP.URL + "/media/replay/fish-room/" + first
	resp, err := http.Get(segURL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp2t" || !bytes.Equal(got, want) {
		t.Fatalf("segment from the store: %d %q, %d bytes, want %d", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), len(want))
	}
	req, _ := http.NewRequest("GET", segURL, nil)
	req.Header.Set("Range", "bytes=188-375")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, want[188:376]) {
		t.Fatalf("range from the store: %d, %d bytes", resp.StatusCode, len(part))
	}
	if code, _ := httpGet(t, b.HTTP.URL+"/media/replay/fish-room/"+rec.ID+"_009999.ts"); code != 404 {
		t.Fatalf("missing segment: %d, want 404", code)
	}
	if code, _ := httpGet(t, b.HTTP.URL+"/media/live/fish-room/"+first); code != 404 {
		t.Fatalf("live path served a stored segment: %d (live reads local files only)", code)
	}
	res := ffprobe(t, 30*time.Second, "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames:format=duration", b.HTTP.URL+rec.ReplayURL)
	if got := probeDuration(t, res); math.Abs(got-rec.Duration.Seconds()) > 1 {
		t.Fatalf("replay from the store lasts %.2f s, recording %v", got, rec.Duration)
	}
	// node B served all that without a local copy
	if _, err := os.Stat(filepath.Join(dirB, "video", "fish-room")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the other node wrote the recording locally: %v", err)
	}
	if code, _ := httpGet(t, b.HTTP.URL+video.ReplayURL("other-room")); code != 404 {
		t.Fatalf("replay of a room without recordings: %d", code)
	}
}

// TestStoreCatchUpAtStart: recordings made while no store was configured
// (or cut off before their copy finished) are copied when a server with a
// store starts on that data dir.
func TestStoreCatchUpAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rooms := newTestRooms(map[string]string{"k-bread": "bread-room"})
	a := startServer(t, dir, rooms)
	pub := startPublisher(t, a.rtmpURL("k-bread"), 3, false)
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out)
	}
	waitFor(t, 15*time.Second, "StreamStopped", func() bool { return rooms.count("stopped:bread-room") == 1 })
	recs := a.Recordings("bread-room")
	if len(recs) != 1 {
		t.Fatalf("recordings = %+v", recs)
	}
	a.stop()

	store, err := objstore.Open(s3test.Start(t, "media").URL(""), "")
	if err != nil {
		t.Fatal(err)
	}
	startServerWith(t, dir, rooms, store)
	ctx := context.Background()
	waitFor(t, 15*time.Second, "the old recording in the store", func() bool {
		list, err := store.List(ctx, "video/bread-room/"+recs[0].ID+"/")
		if err != nil {
			t.Fatal(err)
		}
		return len(list) == recs[0].Segments+1 // segments + journal
	})
	waitFor(t, 5*time.Second, "the mirrored marker", func() bool {
		_, err := os.Stat(filepath.Join(dir, "video", "bread-room", recs[0].ID, ".mirrored"))
		return err == nil
	})
}
