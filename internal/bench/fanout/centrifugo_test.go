package fanout

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
	p, _ := filepath.Abs("../../../tmp/bin/centrifugo")
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
	o := &opts{url: base, room: "room-t", viewers: 3, eventType: "card.pinned", product: 1}
	var tgt *centrifugoTarget
	deadline := time.Now().Add(30 * time.Second)
	for tgt == nil {
		if tgt, err = newCentrifugoTarget(o); err != nil && time.Now().After(deadline) {
			t.Fatalf("centrifugo did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer tgt.close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vc := tgt.viewerConfig()
	vc.Viewers, vc.SourceIPs, vc.Concurrency, vc.CommentSample, vc.EventType = 3, 2, 3, 1, "card.pinned"
	badCfg := vc
	badCfg.Secret, badCfg.Viewers = "wrong", 1
	bad, _ := newPool(badCfg)
	if _, _, err := bad.proto.dial(ctx, bad.viewers[0]); err == nil {
		t.Fatal("a token signed with the wrong secret was accepted")
	}

	pool, err := newPool(vc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.close()
	if err := pool.connectAll(ctx); err != nil {
		t.Fatal(err)
	}
	pool.resetAccounts()
	id, _ := tgt.comment(ctx, 7, "bench "+strconv.FormatInt(time.Now().UnixNano(), 10)+" 这个面包保质期几天？")
	tgt.likes(ctx, 2)
	t0 := time.Now()
	pinID, err := tgt.pin(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	sent := []sentPin{{Key: pinKey([]byte(pinID)), SentNS: t0.UnixNano()}}
	for !pool.pinsComplete(sent) || pool.comments.Load() < 3 || pool.likes.Load() < 3 {
		if ctx.Err() != nil {
			t.Fatalf("not delivered: comments %d/3, like batches %d/3, events complete %v",
				pool.comments.Load(), pool.likes.Load(), pool.pinsComplete(sent))
		}
		time.Sleep(20 * time.Millisecond)
	}
	h := newHist()
	if got, lost := pool.pinLatencies(sent, h, nil); got != 3 || lost != 0 {
		t.Fatalf("commerce events: %d received, %d lost; want 3, 0", got, lost)
	}
	if pool.commentLat.count() != 3 {
		t.Fatalf("comment latencies: %d samples, want 3", pool.commentLat.count())
	}
	if tally := pool.tallyComments([]int64{id}); tally.Shown != 3 || tally.Missing != 0 {
		t.Fatalf("comment account %+v", tally)
	}
	if tgt.apiErrs.Load() != 0 {
		t.Fatalf("%d publish errors", tgt.apiErrs.Load())
	}
}
