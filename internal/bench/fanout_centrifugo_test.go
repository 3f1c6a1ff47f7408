package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// centrifugoBinary finds a Centrifugo installed by scripts/bench-centrifugo.sh
// (tmp/bin, git-ignored) or named by $SHELFLIVE_CENTRIFUGO_BIN. A fresh checkout
// (CI) has neither, so the test skips there.
func centrifugoBinary(t *testing.T) string {
	if p := os.Getenv("SHELFLIVE_CENTRIFUGO_BIN"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../tmp/bin/centrifugo")
	if _, err := os.Stat(p); err != nil {
		t.Skip("centrifugo not installed (run scripts/bench-centrifugo.sh or set SHELFLIVE_CENTRIFUGO_BIN)")
	}
	return p
}

// TestCentrifugoPeerProtocol checks the peer client against a real Centrifugo:
// our HS256 JWT is accepted and a wrong secret is refused, the connect+subscribe
// frame works, and comments, likes and timestamped commerce events published
// through the HTTP API reach every viewer and are classified.
func TestCentrifugoPeerProtocol(t *testing.T) {
	bin := centrifugoBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const secret, key = "test-secret-0123456789abcdef", "test-api-key"
	cfg := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{"log":{"level":"error"},
		"http_server":{"address":"127.0.0.1","port":"%d"},
		"client":{"token":{"hmac_secret_key":%q}},
		"http_api":{"key":%q},
		"channel":{"without_namespace":{"allow_subscribe_for_client":true}}}`, port, secret, key)), 0o600)
	cmd := exec.Command(bin, "--config", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Setenv(centrifugoSecretEnv, secret)
	t.Setenv(centrifugoAPIKeyEnv, key)

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	o := &fanoutOpts{url: base, room: "room-t", viewers: 3, eventType: "card.pinned", product: 1}
	var tgt *fanoutCentrifugo
	deadline := time.Now().Add(30 * time.Second)
	for tgt == nil {
		if tgt, err = newFanoutCentrifugo(o); err != nil && time.Now().After(deadline) {
			t.Fatalf("centrifugo did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer tgt.close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bad := newCentrifugoPool(centrifugoPoolConfig{WSURL: tgt.wsURL(), Channel: "room-t", Secret: "wrong", Viewers: 1, Concurrency: 1})
	if _, _, err := bad.viewers[0].dial(ctx); err == nil {
		t.Fatal("a token signed with the wrong secret was accepted")
	}

	pool := newCentrifugoPool(centrifugoPoolConfig{WSURL: tgt.wsURL(), Channel: "room-t", Secret: secret,
		Viewers: 3, SourceIPs: 2, Concurrency: 3, CommentSample: 1})
	defer pool.close()
	if err := pool.connectAll(ctx); err != nil {
		t.Fatal(err)
	}
	sent := []int64{time.Now().UnixNano()}
	tgt.comment(1, "bench "+strconv.FormatInt(time.Now().UnixNano(), 10)+" 这个面包保质期几天？")
	tgt.likes(2)
	if err := tgt.pin(0, sent[0]); err != nil {
		t.Fatal(err)
	}
	for !pool.pinsComplete(1) || pool.comments.Load() < 3 || pool.likes.Load() < 6 {
		if ctx.Err() != nil {
			t.Fatalf("not delivered: comments %d/3, likes %d/6, events complete %v",
				pool.comments.Load(), pool.likes.Load(), pool.pinsComplete(1))
		}
		time.Sleep(20 * time.Millisecond)
	}
	h := newFanoutHist()
	if got, lost := pool.pinLatencies(sent, h); got != 3 || lost != 0 {
		t.Fatalf("commerce events: %d received, %d lost; want 3, 0", got, lost)
	}
	if pool.commentLat.count() != 3 {
		t.Fatalf("comment latencies: %d samples, want 3", pool.commentLat.count())
	}
	if tgt.apiErrs.Load() != 0 {
		t.Fatalf("%d publish errors", tgt.apiErrs.Load())
	}
}

// TestCentrifugoFrames checks the client-side frame codec: long masked client
// frames, fragmented server messages and close codes.
func TestCentrifugoFrames(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	f := centrifugoClientFrame(long)
	if f[0] != 0x81 || f[1] != 0x80|126 || int(f[2])<<8|int(f[3]) != 300 {
		t.Fatalf("header % x", f[:4])
	}
	mask := f[4:8]
	for i, b := range f[8:] {
		if b^mask[i%4] != long[i] {
			t.Fatalf("byte %d not masked correctly", i)
		}
	}

	// Server: "ab" fragmented as text(no fin) + continuation(fin), then close 3008.
	in := []byte{0x01, 1, 'a', 0x80, 1, 'b', 0x88, 2, 0x0b, 0xc0}
	var frag []byte
	m, rest, code, ok := centrifugoNextMessage(in, &frag)
	if !ok || string(m) != "ab" || code != 0 {
		t.Fatalf("got %q ok=%v code=%d", m, ok, code)
	}
	if _, _, code, ok = centrifugoNextMessage(rest, &frag); ok || code != 3008 {
		t.Fatalf("close: ok=%v code=%d, want 3008", ok, code)
	}
	if _, _, code, ok = centrifugoNextMessage(in[:4], &frag); ok || code != 0 {
		t.Fatalf("partial input: ok=%v code=%d, want need-more", ok, code)
	}
}
