package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/notify/webpush/pushtest"
)

// TestMultiNodeRemindersLeaderKilled: three nodes on one PostgreSQL and
// NATS; twelve viewers, logged in and subscribed (预约, a browser each with
// a local push service) through all three. The 15-minute reminder reaches
// every browser exactly once (VAPID JWT checked, aes128gcm decrypted by the
// receiver); the live goes on air and the leader is SIGKILLed right then:
// another node takes over and every browser gets the start reminder
// exactly once too.
func TestMultiNodeRemindersLeaderKilled(t *testing.T) {
	pg, natsURL := multiNodeEnv(t)
	dbURL := freshSchema(t, pg)
	bin := buildBinary(t)
	prefix := fmt.Sprintf("mnr-%d", time.Now().UnixNano()%1_000_000)
	t.Cleanup(func() { deleteNATSStream(natsURL, prefix) })
	env := []string{"SHELFLIVE_DATABASE_URL=" + dbURL, "SHELFLIVE_NATS_URL=" + natsURL, "SHELFLIVE_NATS_PREFIX=" + prefix,
		"SHELFLIVE_PAY_SECRET=multinode-shared-pay-secret-0123456789", "SHELFLIVE_MQTT_ADDR=", "SHELFLIVE_QUIET_HOURS=off"}
	nodes := []*proc{startClusterNode(t, bin, env)} // the first node seeds and leads
	nodes = append(nodes, startClusterNode(t, bin, env), startClusterNode(t, bin, env))

	rcv := pushtest.New()
	defer rcv.Close()
	keys := map[string]bool{}
	for _, n := range nodes {
		var k struct {
			PublicKey string `json:"public_key"`
		}
		if st, err := call(n.base, "", "GET", "/api/v1/push/key", nil, nil, &k); st != 200 {
			t.Fatalf("push key: %d %v", st, err)
		}
		keys[k.PublicKey] = true
		rcv.VAPIDKey = k.PublicKey
	}
	if len(keys) != 1 {
		t.Fatalf("the nodes sign with %d different VAPID keys", len(keys))
	}

	const viewers = 12
	for i := 0; i < viewers; i++ {
		n := nodes[i%3]
		phone := fmt.Sprintf("1390000%04d", 1500+i)
		var otp struct {
			DevCode string `json:"dev_code"`
		}
		if st, err := call(n.base, "", "POST", "/api/v1/auth/otp", map[string]string{"merchant": "demo", "phone": phone}, nil, &otp); st != 200 {
			t.Fatalf("otp: %d %v", st, err)
		}
		var sess struct{ Token string }
		if st, err := call(n.base, "", "POST", "/api/v1/auth/otp/verify", map[string]string{"merchant": "demo", "phone": phone, "code": otp.DevCode}, nil, &sess); st != 200 {
			t.Fatalf("login: %d %v", st, err)
		}
		if st, err := call(n.base, sess.Token, "PUT", "/api/v1/rooms/clearance/subscription", nil, nil, nil); st != 200 {
			t.Fatalf("subscribe: %d %v", st, err)
		}
		s := rcv.Subscribe()
		body := map[string]any{"endpoint": s.Endpoint, "keys": map[string]string{"p256dh": s.P256DH, "auth": s.Auth}}
		if st, err := call(nodes[(i+1)%3].base, sess.Token, "POST", "/api/v1/me/push-subscriptions", body, nil, nil); st != 200 {
			t.Fatalf("push subscription: %d %v", st, err)
		}
	}

	byTopic := func() map[string]int {
		got := map[string]int{}
		for _, r := range rcv.Received() {
			var p struct{ Tag string }
			json.Unmarshal(r.Payload, &p)
			got[r.Endpoint+" "+p.Tag]++
		}
		return got
	}
	exactlyOnce := func(want int) {
		t.Helper()
		got := byTopic()
		if len(got) != want {
			t.Fatalf("%d distinct (browser, reminder) pushes, want %d; rejected %v", len(got), want, rcv.Rejected())
		}
		for k, n := range got {
			if n != 1 {
				t.Fatalf("%s pushed %d times", k, n)
			}
		}
	}
	if st, err := call(nodes[1].base, multiOwner, "PATCH", "/api/v1/rooms/clearance", map[string]any{"scheduled_at": time.Now().Add(10 * time.Minute).UTC()}, nil, nil); st != 200 {
		t.Fatalf("schedule: %d %v", st, err)
	}
	pollFor(t, "every browser's 15-minute reminder", func() bool { return rcv.Count() >= viewers })
	time.Sleep(6 * time.Second) // the job runs every 5 s on the leader: nothing more may come
	exactlyOnce(viewers)

	// On air through node 2, and the leader dies right then.
	if st, err := call(nodes[1].base, multiOwner, "POST", "/api/v1/rooms/clearance/status", map[string]any{"status": "live"}, nil, nil); st != 200 {
		t.Fatalf("go live: %d %v", st, err)
	}
	nodes[0].kill()
	killed := time.Now()
	pollFor(t, "every browser's start reminder from the new leader", func() bool { return rcv.Count() >= 2*viewers })
	t.Logf("start reminders all received %.1fs after the leader was killed", time.Since(killed).Seconds())
	time.Sleep(6 * time.Second)
	exactlyOnce(2 * viewers)
}
