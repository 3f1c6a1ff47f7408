package fanout

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/testkit"
)

// runTest runs the tool and decodes its last line. In a viewer child (the test
// binary re-executed by --viewer-procs) it only plays the child.
func runTest(t *testing.T, args ...string) summary {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		Run(context.Background(), args, os.Stdout)
		t.SkipNow()
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Run(ctx, args, &out); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var s summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	return s
}

func checkSummary(t *testing.T, s summary, viewers int) {
	t.Helper()
	if s.ViewersConnected != int64(viewers) || s.Viewers != viewers {
		t.Errorf("viewers %d connected %d, want %d", s.Viewers, s.ViewersConnected, viewers)
	}
	if s.PinsSent < 5 || s.PinsSent != s.PinsDue || s.CommerceEventsLost != 0 {
		t.Errorf("pins due %d sent %d, events lost %d", s.PinsDue, s.PinsSent, s.CommerceEventsLost)
	}
	if s.CommerceP99Ms <= 0 || s.CommentP99Ms <= 0 || s.FramesPerS <= 0 || s.CommentsDelivPerS <= 0 {
		t.Errorf("missing measurements: %+v", s)
	}
	if s.CommerceP99Ms > 5000 || s.CommentP99Ms > 5000 {
		t.Errorf("latencies absurd for a tiny load: %+v", s)
	}
	// Every accepted comment reached every sampled viewer or was counted as
	// sampled out by the server: none went missing.
	if s.CommentSampleViewers == 0 || s.CommentsExpected != int64(s.CommentsAccepted)*s.CommentSampleViewers ||
		s.CommentsMissing != 0 || s.CommentsShown+s.CommentsSampledOut < s.CommentsExpected {
		t.Errorf("comment account: %+v", s)
	}
}

func TestRun_InprocLocalViewers(t *testing.T) {
	s := runTest(t, "--inproc", "--viewers", "40", "--viewer-procs", "0", "--duration", "2s",
		"--comments-per-s", "100", "--likes-per-s", "300", "--events-per-s", "10", "--drain", "20s", "--comment-sample", "4")
	checkSummary(t, s, 40)
	if s.Mode != "inproc" || s.ServerRSSMiB <= 0 || s.ServerUsPerWrite <= 0 {
		t.Errorf("summary %+v", s)
	}
	// 100 comments/s over a 100 ms tick is 10 per batch, above the 8 shown:
	// sampling must leave out a share of them, and say so.
	if s.CommentsSampledOut == 0 || s.CommentsShown == s.CommentsExpected {
		t.Errorf("sampling left nothing out: %+v", s)
	}
}

func TestRun_InprocChildViewers(t *testing.T) {
	s := runTest(t, "--inproc", "--viewers", "60", "--duration", "2s",
		"--comments-per-s", "50", "--likes-per-s", "100", "--events-per-s", "10", "--drain", "20s")
	checkSummary(t, s, 60)
	if s.ServerRSSMiB <= 0 || s.ServerCPUPct <= 0 || s.LoadCPUPct <= 0 {
		t.Errorf("no server RSS/CPU or viewer CPU: %+v", s) // per-viewer memory is noise at 60 viewers
	}
}

// TestRun_FrontDoor drives a whole node through its public API: viewer
// accounts log in with the dev OTP code and post comments, the owner token
// pins, likes go to the like API, viewers are anonymous WebSockets; each pin
// event is matched to its request by pin_id and every comment is accounted for.
func TestRun_FrontDoor(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("viewer child")
	}
	m := testkit.StartNode(t, "", "-rate-limits=false")
	s := runTest(t, "--url", m.URL(), "--room", "demo", "--token", testkit.OwnerToken, "--product", "1",
		"--accounts", "30", "--viewers", "30", "--viewer-procs", "0", "--duration", "3s", "--comments-per-s", "10",
		"--likes-per-s", "200", "--events-per-s", "4", "--drain", "20s", "--comment-sample", "3", "--server-pid", strconv.Itoa(os.Getpid()))
	checkSummary(t, s, 30)
	// Each account comments every 3 s, far outside the room's 0.5 s gap; on
	// a machine so busy that two of one account's requests, sent 3 s apart,
	// reach the server within 0.5 s (seen at load 25), the server refuses
	// the second, and the tool must count it as refused, never as missing.
	limited := s.CommentRejections["comment_rate_limited"]
	if s.Mode != "remote" || s.CommentsRejected != limited || limited > 2 || int64(s.CommentsAccepted)+s.CommentsRejected != s.CommentsSent || s.CommentsAccepted < 20 {
		t.Errorf("comments: %+v", s)
	}
	if s.CommentPostP99Ms <= 0 || s.PinPostP99Ms <= 0 || s.LikeErrors != 0 || s.LikesSent < 400 {
		t.Errorf("requests: %+v", s)
	}
	if s.ServerWritesPerS <= 0 || s.ServerUsPerWrite <= 0 {
		t.Errorf("server writes from /metrics: %+v", s)
	}
	// The pin_id's stamp is taken after the request arrived and before the
	// event went out: the fan-out's part is there and never longer than the whole.
	if s.CommerceSrvP50Ms <= 0 || s.CommerceSrvP50Ms > s.CommerceP50Ms || s.CommerceSrvP99Ms > s.CommerceP99Ms {
		t.Errorf("events from the server's stamp: p50 %v / p99 %v, whole p50 %v / p99 %v",
			s.CommerceSrvP50Ms, s.CommerceSrvP99Ms, s.CommerceP50Ms, s.CommerceP99Ms)
	}
	var room struct {
		Likes int64 `json:"likes"`
	}
	testkit.Owner(m).Do(t, "GET", "/api/v1/rooms/demo", nil, &room)
	if room.Likes < s.LikesSent {
		t.Errorf("room has %d likes, the tool sent %d", room.Likes, s.LikesSent)
	}
}

func TestPinStamp(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 0, 0, 123456789, time.UTC).UnixNano()
	for id, want := range map[string]int64{
		"1-" + strconv.FormatInt(at, 36):       at,
		"z9-" + strconv.FormatInt(at, 36):      at, // any room id
		"pin-42":                               0,  // base 36, but no time of this century
		"card.pinned":                          0,
		"k7":                                   0, // the Centrifugo side's ids carry no stamp
		"1-" + strconv.FormatInt(at, 36) + "!": 0,
	} {
		if got := pinStamp(id); got != want {
			t.Errorf("pinStamp(%q) = %d, want %d", id, got, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"NoTarget":      {"--viewers", "10"},
		"Both":          {"--inproc", "--url", "http://x"},
		"ZeroViewers":   {"--inproc", "--viewers", "0"},
		"BadDuration":   {"--inproc", "--duration", "0s"},
		"NegativeRate":  {"--inproc", "--comments-per-s", "-1"},
		"Extra":         {"--inproc", "stray"},
		"Unknown":       {"--inproc", "--nope"},
		"FewAccounts":   {"--url", "http://x", "--comments-per-s", "200", "--accounts", "100"},
		"UnknownPeer":   {"--url", "http://x", "--peer", "nats"},
		"NegativeProcs": {"--inproc", "--viewer-procs", "-1"},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	o, err := parseFlags([]string{"--inproc"}, &bytes.Buffer{})
	if err != nil || o.viewerProcs != 1 || o.viewers != 1000 || o.duration != 20*time.Second || o.accounts != 400 {
		t.Fatalf("defaults %+v %v", o, err)
	}
	if _, err := parseFlags([]string{"--url", "http://x", "--comments-per-s", "200"}, &bytes.Buffer{}); err != nil {
		t.Fatalf("400 accounts for 200 comments/s refused: %v", err)
	}
}

// TestFanoutCLI runs the tool with the arguments in $SHELFLIVE_FANOUT_ARGS, e.g.
//
//	go test -c -o /tmp/fanout.test ./internal/bench/fanout
//	SHELFLIVE_FANOUT_ARGS="--inproc --viewers 10000" /tmp/fanout.test -test.run TestFanoutCLI -test.v -test.timeout 30m
func TestFanoutCLI(t *testing.T) {
	args := os.Getenv("SHELFLIVE_FANOUT_ARGS")
	if args == "" {
		t.Skip("SHELFLIVE_FANOUT_ARGS not set")
	}
	if err := Run(context.Background(), strings.Fields(args), os.Stdout); err != nil {
		t.Fatal(err)
	}
}

func TestCountComments(t *testing.T) {
	for want, m := range map[int]string{
		0: `{"t":"batch","topic":"room:1","comments":[],"dropped":0,"likes":1,"likes_delta":1,"viewers":2}`,
		1: `{"t":"own","topic":"room:1","comments":[{"id":"1","user":"u","name":"n","text":"},{\"id\":","at":"x"}]}`,
		3: `{"t":"batch","topic":"room:1","comments":[{"id":"1","text":"a"},{"id":"2","text":"b"},{"id":"3","text":"c"}],"dropped":9}`,
	} {
		if got := countComments([]byte(m)); got != want {
			t.Errorf("%s: %d comments, want %d", m, got, want)
		}
	}
}

// TestCommentAccount: a sampled viewer records the ids it was shown and the
// dropped counts, and the tally tells sampled-out comments from missing ones.
func TestCommentAccount(t *testing.T) {
	p, err := newPool(viewerConfig{WSURL: "ws://127.0.0.1:1/api/v1/ws?sub=room:1", Topic: "room:1", Viewers: 2, CommentSample: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.resetAccounts()
	now := time.Now()
	a, b := p.viewers[0], p.viewers[1]
	frame := `{"t":"batch","topic":"room:1","comments":[{"id":"100001","user":"c1","name":"x","text":"bench 1 a"},{"id":"100003","user":"c2","name":"y","text":"{\"id\":\"100004\""}],"dropped":1,"likes":0,"likes_delta":0,"viewers":2}`
	shelfLiveProto{}.message(a, []byte(frame), now, nil)
	shelfLiveProto{}.message(b, []byte(`{"t":"batch","topic":"room:1","comments":[{"id":"100001","user":"c1","name":"x","text":"a"}],"dropped":0,"likes":0,"likes_delta":0,"viewers":2}`), now, nil)
	got := p.tallyComments([]int64{100001, 100002, 100003})
	want := commentTally{Viewers: 2, Expected: 6, Shown: 3, SampledOut: 1, Missing: 2}
	if got != want {
		t.Fatalf("tally %+v, want %+v", got, want)
	}
}

// TestFrames checks the client-side frame codec: long masked client frames,
// fragmented server messages, pings answered, close.
func TestFrames(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	f := clientFrame(0x1, long)
	if f[0] != 0x81 || f[1] != 0x80|126 || int(f[2])<<8|int(f[3]) != 300 {
		t.Fatalf("header % x", f[:4])
	}
	mask := f[4:8]
	for i, b := range f[8:] {
		if b^mask[i%4] != long[i] {
			t.Fatalf("byte %d not masked correctly", i)
		}
	}
	p, _ := newPool(viewerConfig{WSURL: "ws://127.0.0.1:1/x", Proto: protoCentrifugo, Viewers: 1, EventType: "card.pinned"})
	v := p.viewers[0]
	// "{}" fragmented as text(no fin) + continuation(fin): a Centrifugo ping,
	// answered with {}; then a WebSocket ping; then close 3008; then a partial frame.
	in := []byte{0x01, 1, '{', 0x80, 1, '}', 0x89, 0, 0x88, 2, 0x0b, 0xc0, 0x81, 5, 'x'}
	var replies [][]byte
	used, closed := v.feed(in, func(fr []byte) { replies = append(replies, fr) })
	if !closed || used != 12 || len(replies) != 3 {
		t.Fatalf("used %d closed %v replies %d", used, closed, len(replies))
	}
	if replies[0][0] != 0x81 || replies[1][0] != 0x8A || replies[2][0] != 0x88 {
		t.Fatalf("replies % x", replies)
	}
	if _, _, _, n, bad := parseFrame(in[12:]); n != 0 || bad {
		t.Fatalf("partial frame: n=%d bad=%v", n, bad)
	}
}
