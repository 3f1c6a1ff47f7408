package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// runFanoutTest runs the tool and decodes its last line. In a viewer child
// (the test binary re-executed by --viewer-procs) it only plays the child.
func runFanoutTest(t *testing.T, args ...string) (fanoutSummary, string) {
	t.Helper()
	if os.Getenv(fanoutChildEnv) != "" {
		RunFanout(context.Background(), args, os.Stdout)
		t.SkipNow()
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := RunFanout(ctx, args, &out); err != nil {
		t.Fatalf("RunFanout: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var s fanoutSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	return s, out.String()
}

func fanoutCheckSummary(t *testing.T, s fanoutSummary, viewers int) {
	t.Helper()
	if s.ViewersConnected != int64(viewers) || s.Viewers != viewers {
		t.Errorf("viewers %d connected %d, want %d", s.Viewers, s.ViewersConnected, viewers)
	}
	if s.CommerceEventsSent < 5 || s.CommerceEventsLost != 0 {
		t.Errorf("commerce events sent %d lost %d", s.CommerceEventsSent, s.CommerceEventsLost)
	}
	if s.CommerceP99Ms <= 0 || s.CommentBatchP99Ms <= 0 || s.FramesPerS <= 0 || s.CommentsDeliveredPerS <= 0 {
		t.Errorf("missing measurements: %+v", s)
	}
	if s.CommerceP99Ms > 5000 || s.CommentBatchP99Ms > 5000 {
		t.Errorf("latencies absurd for a tiny load: %+v", s)
	}
}

func TestRunFanout_InprocLocalViewers(t *testing.T) {
	s, _ := runFanoutTest(t, "--inproc", "--viewers", "40", "--viewer-procs", "0", "--duration", "2s",
		"--comments-per-s", "100", "--likes-per-s", "300", "--events-per-s", "10", "--drain", "20s")
	fanoutCheckSummary(t, s, 40)
	if s.Mode != "inproc" || s.ServerRSSMiB <= 0 {
		t.Errorf("summary %+v", s)
	}
	// 100 comments/s over a 100 ms tick is 10 per batch, above the 8 shown:
	// sampling must leave out a share of them (about a fifth; at least 5 %
	// even when a loaded machine stretches ticks and spreads the senders).
	if all := float64(s.CommentsSent) * 40 / s.DurationS; s.CommentsDeliveredPerS > 0.95*all {
		t.Errorf("%.0f of %.0f comments/s delivered to 40 viewers: sampling did not cap batches", s.CommentsDeliveredPerS, all)
	}
}

func TestRunFanout_InprocChildViewers(t *testing.T) {
	s, _ := runFanoutTest(t, "--inproc", "--viewers", "60", "--duration", "2s",
		"--comments-per-s", "50", "--likes-per-s", "100", "--events-per-s", "10", "--drain", "20s")
	fanoutCheckSummary(t, s, 60)
	if s.ServerRSSMiB <= 0 || s.ServerCPUPct <= 0 {
		t.Errorf("no server RSS/CPU: %+v", s) // per-viewer memory is noise at 60 viewers
	}
}

// A stand-in for the ShelfLive HTTP API (the routes RunFanout uses), so remote
// mode is tested over real HTTP and WebSocket.
func TestRunFanout_Remote(t *testing.T) {
	hub := realtime.NewLocalHub(realtime.Options{})
	defer hub.Close()
	const token = "t0ken"
	var pins, comments, likes int
	var mu sync.Mutex
	byToken := map[string]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/rooms/fresh", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":12,"slug":"fresh","title":"x"}`))
	})
	auth := func(h func(r *http.Request, body map[string]any)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			if auth != "Bearer "+token && auth != "Bearer second" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			byToken[auth]++
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			h(r, body)
			w.WriteHeader(http.StatusCreated)
		}
	}
	mux.HandleFunc("POST /api/v1/rooms/fresh/comments", auth(func(r *http.Request, b map[string]any) {
		comments++
		hub.PublishComment("room:12", realtime.Comment{ID: time.Now().String(), User: "admin", Name: "管理员", Text: b["text"].(string)})
	}))
	mux.HandleFunc("POST /api/v1/rooms/fresh/likes", auth(func(r *http.Request, b map[string]any) {
		likes += int(b["count"].(float64))
		hub.AddLikes("room:12", int(b["count"].(float64)))
	}))
	mux.HandleFunc("POST /api/v1/rooms/fresh/pin", auth(func(r *http.Request, b map[string]any) {
		pins++
		hub.Publish("room:12", "card.pinned", map[string]any{"product_id": b["product_id"]})
	}))
	mux.HandleFunc("GET /api/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		subs, err := ws.ParseResume(r.URL.Query()["sub"])
		if err != nil || subs[0].Topic != "room:12" {
			http.Error(w, "bad sub", http.StatusBadRequest)
			return
		}
		ws.Serve(w, r, hub, ws.Options{Topics: subs})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	s, _ := runFanoutTest(t, "--url", srv.URL, "--room", "fresh", "--token", token+",second", "--product", "7",
		"--viewers", "30", "--duration", "2s", "--comments-per-s", "50", "--likes-per-s", "200", "--events-per-s", "10", "--drain", "20s")
	fanoutCheckSummary(t, s, 30)
	if s.Mode != "remote" || s.CommentsRejected != 0 || pins != s.CommerceEventsSent || hub.Likes("room:12") != s.LikesSent {
		t.Errorf("summary %+v; server saw %d pins %d comments %d likes", s, pins, comments, likes)
	}
	if byToken["Bearer second"] == 0 {
		t.Errorf("comments not spread over the tokens: %v", byToken)
	}
}

func TestParseFanoutFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"NoTarget":     {"--viewers", "10"},
		"Both":         {"--inproc", "--url", "http://x"},
		"ZeroViewers":  {"--inproc", "--viewers", "0"},
		"BadDuration":  {"--inproc", "--duration", "0s"},
		"NegativeRate": {"--inproc", "--comments-per-s", "-1"},
		"Extra":        {"--inproc", "stray"},
		"Unknown":      {"--inproc", "--nope"},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			if _, err := parseFanoutFlags(args, &bytes.Buffer{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	o, err := parseFanoutFlags([]string{"--inproc"}, &bytes.Buffer{})
	if err != nil || o.viewerProcs != 1 || o.viewers != 1000 || o.duration != 20*time.Second {
		t.Fatalf("defaults %+v %v", o, err)
	}
}

// TestFanoutCLI runs the tool with the arguments in $SHELFLIVE_FANOUT_ARGS (for
// measurements before `shelflive bench fanout` is wired), e.g.
//
//	go test -c -o /tmp/bench.test ./internal/bench
//	SHELFLIVE_FANOUT_ARGS="--inproc --viewers 10000 --comments-per-s 200 --likes-per-s 1000 --duration 20s" \
//	  /tmp/bench.test -test.run TestFanoutCLI -test.v -test.timeout 30m
func TestFanoutCLI(t *testing.T) {
	args := os.Getenv("SHELFLIVE_FANOUT_ARGS")
	if args == "" {
		t.Skip("SHELFLIVE_FANOUT_ARGS not set")
	}
	if err := RunFanout(context.Background(), strings.Fields(args), os.Stdout); err != nil {
		t.Fatal(err)
	}
}

func TestFanoutCountComments(t *testing.T) {
	for want, m := range map[int]string{
		0: `{"t":"batch","topic":"room:1","comments":[],"dropped":0,"likes":1,"likes_delta":1,"viewers":2}`,
		1: `{"t":"own","topic":"room:1","comments":[{"id":"1","user":"u","name":"n","text":"},{\"id\":","at":"x"}]}`,
		3: `{"t":"batch","topic":"room:1","comments":[{"id":"1","text":"a"},{"id":"2","text":"b"},{"id":"3","text":"c"}],"dropped":9}`,
	} {
		if got := fanoutCountComments([]byte(m)); got != want {
			t.Errorf("%s: %d comments, want %d", m, got, want)
		}
	}
}
