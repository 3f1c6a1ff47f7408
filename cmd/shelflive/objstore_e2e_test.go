package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/objstore/s3test"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestReplayOnAnotherNode: two whole nodes with their own data dirs share
// one S3 bucket (SHELFLIVE_S3_URL); a live published to node A is offered
// and played as a replay by node B, which never received the stream.
func TestReplayOnAnotherNode(t *testing.T) {
	ffmpegPath(t)
	s3URL := s3test.Start(t, "media").URL("e2e/")
	a := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0", "-s3-url", s3URL)
	b := testkit.StartNode(t, "", "-rtmp-addr", "127.0.0.1:0", "-s3-url", s3URL)

	streamCtx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	// A small, slow stream: the test is about where the recording goes,
	// and it must keep up while other tests encode video on the same box.
	publishVideo(t, streamCtx, a, "demo-stream-key", "320x180", 10)
	var room struct {
		Playback struct {
			OnAir  bool   `json:"on_air"`
			Replay string `json:"replay"`
		} `json:"playback"`
	}
	ownerA, ownerB := testkit.Owner(a), testkit.Owner(b)
	// Generous waits: on a busy 2-core box ffmpeg can take long to start
	// and to reach real time (it timed out at 20 s once).
	testkit.WaitFor(t, "stream on air", 120*time.Second, func() bool {
		ownerA.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return room.Playback.OnAir
	})
	time.Sleep(4 * time.Second) // a few 1 s segments
	stopStream()
	// (Separate SQLite databases here; on a cluster the room is one row.)
	if st := ownerB.Do(t, "POST", "/api/v1/rooms/demo/status", map[string]string{"status": "ended"}, nil); st != 200 {
		t.Fatalf("end room on node B: %d", st)
	}
	testkit.WaitFor(t, "node B offers the replay", 120*time.Second, func() bool {
		ownerB.Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
		return room.Playback.Replay != ""
	})
	var playlist string
	testkit.WaitFor(t, "the whole recording on node B", 120*time.Second, func() bool {
		resp, err := http.Get(b.URL() + room.Playback.Replay)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		playlist = string(body)
		return resp.StatusCode == 200 && strings.Contains(playlist, "#EXT-X-ENDLIST")
	})
	anon := &testkit.Client{Base: b.URL()}
	var seg string
	for line := range strings.SplitSeq(playlist, "\n") {
		if strings.HasSuffix(line, ".ts") {
			seg = line
			break
		}
	}
	base := room.Playback.Replay[:strings.LastIndexByte(room.Playback.Replay, '/')+1]
	if st, _ := anon.DoRaw(t, "GET", base+seg, nil, nil); seg == "" || st != 200 {
		t.Fatalf("segment %q from node B: %d\n%s", seg, st, playlist)
	}
}
