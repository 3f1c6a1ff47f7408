package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shelflive/shelflive/internal/natshub"
	_ "github.com/shelflive/shelflive/internal/sqldb" // registers the pgx driver for the schema admin connection
)

// The scale-out suites run when their servers are configured; when a URL is
// set and the server is unreachable they fail, never skip (CI sets them on
// purpose; see .ci/run).
const (
	envTestPostgres = "SHELFLIVE_TEST_POSTGRES"
	envTestNATS     = "SHELFLIVE_TEST_NATS"
)

// multiNodeEnv returns the PostgreSQL and NATS URLs of the machine's servers.
func multiNodeEnv(t *testing.T) (pg, natsURL string) {
	t.Helper()
	pg, natsURL = os.Getenv(envTestPostgres), os.Getenv(envTestNATS)
	if pg == "" || natsURL == "" {
		t.Skipf("%s and %s must both be set for the multi-node test", envTestPostgres, envTestNATS)
	}
	nc, err := nats.Connect(natsURL, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("%s is set but NATS is unreachable: %v", envTestNATS, err)
	}
	nc.Close()
	return pg, natsURL
}

// freshSchema creates an empty PostgreSQL schema for this run and returns a
// database URL whose search_path points at it; the schema is dropped at the end.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", envTestPostgres, err)
	}
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", envTestPostgres, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "mn_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("pool_max_conns", "6") // three nodes share the CI server with other suites
	q.Set("pool_max_read_conns", "3")
	u.RawQuery = q.Encode()
	return u.String()
}

const multiOwner = "multinode-owner-token-0123456789"

// startClusterNode starts `shelflive serve` as one node of the cluster and
// waits until /readyz answers 200. It is stopped with SIGTERM at the end.
func startClusterNode(t *testing.T, bin string, env []string) *proc {
	t.Helper()
	// Port 0: the node picks a free port itself and names it in its start
	// banner. (Picking one here and passing it on raced with other processes
	// on a busy box: a port freed here could be taken, and /readyz answered,
	// by another test's node while this one was still seeding its demo data.)
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-rtmp-addr", "", "-admin-token", multiOwner,
		"-rate-limits=false", "-log-format", "json")
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.Create(t.TempDir() + "/node.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				p.kill()
			}
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("log of %s:\n%s", p.base, tail(string(b), 40))
			}
		}
	})
	banner := regexp.MustCompile(`http://localhost:(\d+)/live/demo`)
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if p.base == "" {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				if m := banner.FindSubmatch(b); m != nil {
					p.base = "http://127.0.0.1:" + string(m[1])
				}
			}
		}
		if p.base != "" {
			if resp, err := http.Get(p.base + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return p
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("node %s did not become ready", p.base)
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// wsFrame is the union of the frames the test looks at (docs/PROTOCOL.md).
type wsFrame struct {
	T        string          `json:"t"`
	Topic    string          `json:"topic"`
	Epoch    string          `json:"epoch"`
	Seq      uint64          `json:"seq"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	Code     string          `json:"code"`
	Viewers  int             `json:"viewers"`
	Comments []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
		Host bool   `json:"host"`
	} `json:"comments"`
}

// wsViewer is one real WebSocket viewer of a room on one node.
type wsViewer struct {
	name   string
	conn   *websocket.Conn
	mu     sync.Mutex
	frames []wsFrame
	done   chan struct{}
}

func dialViewer(t *testing.T, name, base, sub string) *wsViewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws?sub=" + neturl.QueryEscape(sub)
	c, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("%s: dial %s: %v (HTTP %d)", name, u, err, status)
	}
	c.SetReadLimit(1 << 20)
	v := &wsViewer{name: name, conn: c, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			var f wsFrame
			if json.Unmarshal(b, &f) == nil {
				v.mu.Lock()
				v.frames = append(v.frames, f)
				v.mu.Unlock()
			}
		}
	}()
	t.Cleanup(v.close)
	return v
}

func (v *wsViewer) close() {
	v.conn.Close(websocket.StatusNormalClosure, "")
	<-v.done
}

func (v *wsViewer) snapshot() []wsFrame {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]wsFrame(nil), v.frames...)
}

// events checks the viewer's guaranteed stream on topic — a snapshot, then
// events with consecutive seq — and returns the position and seq → payload.
func (v *wsViewer) events(t *testing.T, topic string) (epoch string, seq uint64, evs map[uint64]string) {
	t.Helper()
	evs = map[uint64]string{}
	for _, f := range v.snapshot() {
		if f.Topic != topic {
			continue
		}
		switch f.T {
		case "snapshot":
			epoch, seq = f.Epoch, f.Seq
		case "ev":
			if epoch == "" {
				t.Fatalf("%s: event %d before a snapshot", v.name, f.Seq)
			}
			if f.Seq != seq+1 {
				t.Fatalf("%s: seq %d after %d (gap or duplicate)", v.name, f.Seq, seq)
			}
			seq = f.Seq
			evs[f.Seq] = f.Type + " " + string(f.Data)
		}
	}
	return epoch, seq, evs
}

func (v *wsViewer) sawComment(text string) bool {
	for _, f := range v.snapshot() {
		for _, c := range f.Comments {
			if c.Text == text {
				return true
			}
		}
	}
	return false
}

func pollFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type roomInfo struct {
	Room struct {
		ID int64 `json:"id"`
	} `json:"room"`
	Pinned *struct {
		ID int64 `json:"id"`
	} `json:"pinned"`
	Viewers int `json:"viewers"`
}

func getRoom(t *testing.T, base string) roomInfo {
	t.Helper()
	var ri roomInfo
	if st, err := call(base, "", "GET", "/api/v1/rooms/demo", nil, nil, &ri); err != nil || st != 200 {
		t.Fatalf("GET room on %s: %d %v", base, st, err)
	}
	return ri
}

// TestMultiNode runs three `shelflive serve` processes on one PostgreSQL
// schema and one NATS, with viewers on every node: state written through any
// node is seen through every node, and room events posted on one node reach
// the viewers of all nodes in one order, with resume on another node.
func TestMultiNode(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	bin := buildBinary(t)
	var b [4]byte
	rand.Read(b[:])
	prefix := "mn-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { deleteNATSStream(natsURL, prefix) })
	env := []string{"SHELFLIVE_DATABASE_URL=" + dbURL, "SHELFLIVE_NATS_URL=" + natsURL, "SHELFLIVE_NATS_PREFIX=" + prefix,
		"SHELFLIVE_PAY_SECRET=multinode-shared-pay-secret-0123456789",
		"SHELFLIVE_MQTT_ADDR=", // the nodes share one host: no embedded MQTT broker each
	}

	// Only the first node seeds the demo data; the others start on it.
	nodes := []*proc{startClusterNode(t, bin, env)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := startClusterNode(t, bin, env)
			mu.Lock()
			nodes = append(nodes, p)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(nodes) != 3 {
		t.FailNow()
	}

	// Database: one room, one state, whichever node answers.
	roomID := getRoom(t, nodes[0].base).Room.ID
	for _, n := range nodes[1:] {
		if id := getRoom(t, n.base).Room.ID; id != roomID {
			t.Fatalf("node %s sees room %d, node 1 sees %d", n.base, id, roomID)
		}
	}
	if st, err := call(nodes[1].base, multiOwner, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": 2}, nil, nil); err != nil || st != 200 {
		t.Fatalf("pin on node 2: %d %v", st, err)
	}
	for _, n := range nodes {
		if ri := getRoom(t, n.base); ri.Pinned == nil || ri.Pinned.ID != 2 {
			t.Fatalf("node %s: pinned %+v after a pin on node 2, want product 2", n.base, ri.Pinned)
		}
	}

	// Two viewers per node.
	topic := fmt.Sprintf("room:%d", roomID)
	var viewers []*wsViewer
	for i, n := range nodes {
		for k := 0; k < 2; k++ {
			viewers = append(viewers, dialViewer(t, fmt.Sprintf("node%d/viewer%d", i+1, k), n.base, topic))
		}
	}
	for _, v := range viewers {
		pollFor(t, v.name+" snapshot", func() bool { e, _, _ := v.events(t, topic); return e != "" })
	}
	// Presence is summed over the nodes.
	for _, n := range nodes {
		pollFor(t, "6 viewers counted on "+n.base, func() bool { return getRoom(t, n.base).Viewers == 6 })
	}

	// Pins from every node, interleaved, and host comments from node 3.
	products := []int64{1, 3, 2, 4, 1, 2, 3, 1, 2}
	for i, pid := range products {
		n := nodes[i%3]
		if st, err := call(n.base, multiOwner, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": pid}, nil, nil); err != nil || st != 200 {
			t.Fatalf("pin %d on %s: %d %v", pid, n.base, st, err)
		}
	}
	comments := []string{"欢迎来到直播间 1", "今天的草莓很甜 2", "welcome 3"}
	for _, c := range comments {
		if st, err := call(nodes[2].base, multiOwner, "POST", "/api/v1/rooms/demo/comments", map[string]any{"text": c}, nil, nil); err != nil || st != 201 {
			t.Fatalf("comment on node 3: %d %v", st, err)
		}
	}

	// Every viewer on every node: the same events, in the same order, no gaps.
	var want map[uint64]string
	var wantEpoch string
	var last uint64
	for _, v := range viewers {
		pollFor(t, v.name+" pins", func() bool {
			_, _, evs := v.events(t, topic)
			n := 0
			for _, e := range evs {
				if strings.HasPrefix(e, "card.pinned ") {
					n++
				}
			}
			return n >= len(products)
		})
		epoch, seq, evs := v.events(t, topic)
		if want == nil {
			want, wantEpoch, last = evs, epoch, seq
		}
		if epoch != wantEpoch {
			t.Fatalf("%s: epoch %q, other viewers %q", v.name, epoch, wantEpoch)
		}
		for s, e := range evs {
			if w, ok := want[s]; ok && w != e {
				t.Fatalf("%s: seq %d is %q, another node delivered %q", v.name, s, e, w)
			}
		}
		if seq > last {
			last = seq
		}
	}
	// The pins arrived in the order they were made.
	var order []int64
	for s := last - uint64(len(products)) + 1; s <= last; s++ {
		var d struct {
			Product struct {
				ID int64 `json:"id"`
			} `json:"product"`
		}
		json.Unmarshal([]byte(strings.TrimPrefix(want[s], "card.pinned ")), &d)
		order = append(order, d.Product.ID)
	}
	if fmt.Sprint(order) != fmt.Sprint(products) {
		t.Fatalf("pins delivered as %v, made as %v", order, products)
	}
	for _, v := range viewers {
		for _, c := range comments {
			pollFor(t, v.name+" comment "+c, func() bool { return v.sawComment(c) })
		}
	}

	// A viewer of node 3 loses its connection and resumes on node 1 with its
	// position: it gets exactly the events it missed.
	moved := viewers[5]
	epoch, seq, _ := moved.events(t, topic)
	moved.close()
	for _, pid := range []int64{4, 2} {
		if st, err := call(nodes[1].base, multiOwner, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": pid}, nil, nil); err != nil || st != 200 {
			t.Fatalf("pin: %d %v", st, err)
		}
	}
	pollFor(t, "node 1 viewer sees the new pins", func() bool { _, s, _ := viewers[0].events(t, topic); return s >= seq+2 })
	resumed := dialViewer(t, "resumed-on-node1", nodes[0].base, fmt.Sprintf("%s@%s.%d", topic, epoch, seq))
	pollFor(t, "replay on node 1", func() bool { _, _, evs := resumed.events2(topic); return len(evs) >= 2 })
	for _, f := range resumed.snapshot() {
		if f.T == "snapshot" {
			t.Fatalf("resume on another node got a snapshot instead of the 2 missed events")
		}
	}
	if _, s, _ := resumed.events2(topic); s != seq+2 {
		t.Fatalf("resumed at %d, want %d", s, seq+2)
	}

	// Node 3 dies (SIGKILL, no goodbye): its viewers stop counting on the
	// others within a few seconds, and its last viewer resumes on node 2.
	orphan := viewers[4]
	pollFor(t, "node 3 viewer up to date", func() bool {
		_, a, _ := orphan.events(t, topic)
		_, b, _ := viewers[0].events(t, topic)
		return a == b
	})
	epoch, seq, _ = orphan.events(t, topic)
	nodes[2].kill()
	<-orphan.done
	for _, n := range nodes[:2] {
		pollFor(t, "node 3's viewer to stop counting on "+n.base, func() bool { return getRoom(t, n.base).Viewers == 5 })
	}
	if st, err := call(nodes[0].base, multiOwner, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": 3}, nil, nil); err != nil || st != 200 {
		t.Fatalf("pin: %d %v", st, err)
	}
	pollFor(t, "the pin on node 1", func() bool { _, s, _ := viewers[0].events(t, topic); return s == seq+1 })
	again := dialViewer(t, "resumed-on-node2", nodes[1].base, fmt.Sprintf("%s@%s.%d", topic, epoch, seq))
	pollFor(t, "replay on node 2", func() bool { _, s, _ := again.events2(topic); return s == seq+1 })
	if _, _, seqs := again.events2(topic); len(seqs) != 1 || seqs[0] != seq+1 {
		t.Fatalf("resume after node death got %v, want [%d]", seqs, seq+1)
	}
	pollFor(t, "6 viewers again", func() bool { return getRoom(t, nodes[0].base).Viewers == 6 })
}

// events2 is events for a viewer that resumed (no snapshot): it returns the
// event seqs in order, checking they are consecutive.
func (v *wsViewer) events2(topic string) (string, uint64, []uint64) {
	var seqs []uint64
	var last uint64
	for _, f := range v.snapshot() {
		if f.Topic == topic && f.T == "ev" {
			if last != 0 && f.Seq != last+1 {
				return "", 0, nil
			}
			last = f.Seq
			seqs = append(seqs, f.Seq)
		}
	}
	return "", last, seqs
}

// deleteNATSStream removes the stream a test cluster created.
func deleteNATSStream(natsURL, prefix string) {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js.DeleteStream(ctx, natshub.StreamFor(prefix))
}
