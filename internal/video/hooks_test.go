package video_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/shelflive/shelflive/internal/video"
)

// sinkRooms adds RecordingSink to testRooms.
type sinkRooms struct {
	*testRooms
	mu   sync.Mutex
	recs []video.ExternalRecording
}

func (s *sinkRooms) RecordingReady(_ context.Context, rec video.ExternalRecording) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, rec)
	return nil
}

// postHook sends a body exactly as SRS does: POST, application/json, the
// hook URL as configured (with our secret in the query).
func postHook(t *testing.T, url, body string) (int, int) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Code *int `json:"code"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Code == nil {
		t.Fatalf("hook answer %q is not {\"code\":N}: %v", b, err)
	}
	return resp.StatusCode, *out.Code
}

func TestHooksSRS(t *testing.T) {
	t.Parallel()
	rooms := &sinkRooms{testRooms: newTestRooms(map[string]string{"sk-live-123": "farm-eggs"})}
	hooks := video.NewHooks(rooms, video.HooksConfig{
		Playback: video.PlaybackTemplates{
			FLV: "https://live.example.com/live/{slug}.flv",
			HLS: "https://live.example.com/live/{slug}.m3u8",
		},
		Secret: "hook-secret",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	mux := http.NewServeMux()
	mux.Handle(video.HooksPrefix, hooks)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	u := func(action string) string { return hs.URL + video.HooksPrefix + action + "?secret=hook-secret" }

	// SRS 5/6 body: client_id is a string, with server_id/stream_url/stream_id.
	publishV5 := `{"server_id":"vid-0xk989d","service_id":"2x0o2y5e","action":"on_publish","client_id":"341w361a",` +
		`"ip":"127.0.0.1","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://127.0.0.1:1935/live",` +
		`"stream":"farm-eggs","param":"?key=sk-live-123","stream_url":"/live/farm-eggs","stream_id":"vid-124q9y3"}`

	t.Run("OK", func(t *testing.T) {
		if status, code := postHook(t, u("on_publish"), publishV5); status != 200 || code != 0 {
			t.Fatalf("on_publish = %d code %d, want 200 code 0", status, code)
		}
		if rooms.count("started:farm-eggs") != 1 {
			t.Fatalf("events = %v", rooms.log())
		}
		if _, live := hooks.Live("farm-eggs"); !live {
			t.Fatal("not live after on_publish")
		}
		if got := hooks.PlaybackURLs("farm-eggs").FLV; got != "https://live.example.com/live/farm-eggs.flv" {
			t.Fatalf("FLV url = %q", got)
		}
		dvr := `{"server_id":"vid-0xk989d","action":"on_dvr","client_id":"341w361a","ip":"127.0.0.1",` +
			`"vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://127.0.0.1:1935/live","stream":"farm-eggs",` +
			`"param":"?key=sk-live-123","cwd":"/usr/local/srs","file":"./objs/nginx/html/live/farm-eggs.1700000000000.flv",` +
			`"stream_url":"/live/farm-eggs","stream_id":"vid-124q9y3"}`
		if status, code := postHook(t, u("on_dvr"), dvr); status != 200 || code != 0 {
			t.Fatalf("on_dvr = %d code %d", status, code)
		}
		want := "/usr/local/srs/objs/nginx/html/live/farm-eggs.1700000000000.flv"
		if recs := hooks.Recordings("farm-eggs"); len(recs) != 1 || recs[0].File != want {
			t.Fatalf("recordings = %+v", recs)
		}
		if len(rooms.recs) != 1 || rooms.recs[0].Slug != "farm-eggs" {
			t.Fatalf("sink got %+v", rooms.recs)
		}
		unpublish := strings.Replace(publishV5, `"on_publish"`, `"on_unpublish"`, 1)
		if status, code := postHook(t, u("on_unpublish"), unpublish); status != 200 || code != 0 {
			t.Fatalf("on_unpublish = %d code %d", status, code)
		}
		if rooms.count("stopped:farm-eggs") != 1 {
			t.Fatalf("events = %v", rooms.log())
		}
		if _, live := hooks.Live("farm-eggs"); live {
			t.Fatal("still live after on_unpublish")
		}
	})

	t.Run("OKKeyInStreamV4", func(t *testing.T) {
		// SRS 3/4 body: numeric client_id, key as the stream name.
		body := `{"action":"on_publish","client_id":1985,"ip":"192.168.1.10","vhost":"__defaultVhost__",` +
			`"app":"live","tcUrl":"rtmp://192.168.1.1/live","stream":"sk-live-123","param":""}`
		if status, code := postHook(t, u("on_publish"), body); status != 200 || code != 0 {
			t.Fatalf("on_publish = %d code %d", status, code)
		}
		if rooms.count("started:farm-eggs") != 2 {
			t.Fatalf("events = %v", rooms.log())
		}
		// a second stream name for the same live room is refused
		second := strings.Replace(publishV5, `"client_id":"341w361a"`, `"client_id":"other"`, 1)
		if status, code := postHook(t, u("on_publish"), second); status != 403 || code == 0 {
			t.Fatalf("second publisher = %d code %d, want 403 non-zero", status, code)
		}
		unpublish := strings.Replace(body, `"on_publish"`, `"on_unpublish"`, 1)
		if status, code := postHook(t, u("on_unpublish"), unpublish); status != 200 || code != 0 {
			t.Fatalf("on_unpublish = %d code %d", status, code)
		}
		if rooms.count("stopped:farm-eggs") != 2 {
			t.Fatalf("events = %v", rooms.log())
		}
	})

	t.Run("ErrRefused", func(t *testing.T) {
		before := len(rooms.log())
		cases := map[string]string{
			"unknown key":    strings.Replace(publishV5, "sk-live-123", "sk-rotated", 1),
			"wrong stream":   strings.Replace(publishV5, `"stream":"farm-eggs"`, `"stream":"other-room"`, 1),
			"no key at all":  strings.Replace(strings.Replace(publishV5, `"?key=sk-live-123"`, `""`, 1), `"stream":"farm-eggs"`, `"stream":""`, 1),
			"malformed body": `{"action":"on_publish",`,
		}
		for name, body := range cases {
			status, code := postHook(t, u("on_publish"), body)
			if status == 200 || code == 0 {
				t.Errorf("%s: %d code %d, want refusal", name, status, code)
			}
		}
		if status, code := postHook(t, hs.URL+video.HooksPrefix+"on_publish?secret=wrong", publishV5); status != 403 || code == 0 {
			t.Errorf("bad secret: %d code %d", status, code)
		}
		for _, e := range rooms.log()[before:] {
			if strings.HasPrefix(e, "started:") {
				t.Fatalf("a refused publish started the room: %v", rooms.log())
			}
		}
	})
}
