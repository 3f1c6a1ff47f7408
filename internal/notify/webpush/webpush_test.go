package webpush_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/notify/webpush"
	"github.com/shelflive/shelflive/internal/notify/webpush/pushtest"
)

// TestEncryptDecrypt: a message sealed for a subscription opens with its
// private key and auth secret, and not with another's.
func TestEncryptDecrypt(t *testing.T) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	enc := base64.RawURLEncoding
	sub := webpush.Subscription{Endpoint: "https://push.example/x", P256DH: enc.EncodeToString(ua.PublicKey().Bytes()), Auth: enc.EncodeToString(auth)}
	if err := sub.Check(false); err != nil {
		t.Fatal(err)
	}
	body, err := webpush.Encrypt(sub, []byte(`{"title":"开播啦"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := webpush.Decrypt(ua, auth, body)
	if err != nil || string(got) != `{"title":"开播啦"}` {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	if _, err := webpush.Decrypt(other, auth, body); err == nil {
		t.Fatal("another key opened it")
	}
	auth[0] ^= 1
	if _, err := webpush.Decrypt(ua, auth, body); err == nil {
		t.Fatal("another auth secret opened it")
	}
	for _, bad := range []webpush.Subscription{{Endpoint: "http://push.example/x", P256DH: sub.P256DH, Auth: sub.Auth}, {Endpoint: sub.Endpoint, P256DH: "AAAA", Auth: sub.Auth}, {Endpoint: sub.Endpoint, P256DH: sub.P256DH, Auth: "AAAA"}} {
		if bad.Check(false) == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestSendToReceiver: the local push service accepts our VAPID-signed,
// encrypted push, refuses another install's key, and a gone subscription
// answers ErrGone.
func TestSendToReceiver(t *testing.T) {
	rcv := pushtest.New()
	defer rcv.Close()
	v, err := webpush.NewVAPID([]byte("install secret"), "mailto:ops@shelflive.dev")
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := webpush.NewVAPID([]byte("install secret"), "mailto:ops@shelflive.dev")
	if v.PublicKey() != v2.PublicKey() {
		t.Fatal("the same seed made two keys: nodes would disagree")
	}
	rcv.VAPIDKey = v.PublicKey()
	c := &webpush.Client{VAPID: v, HTTP: http.DefaultClient}
	sub := rcv.Subscribe()
	ctx := context.Background()
	if err := c.Send(ctx, sub, webpush.Message{Payload: []byte("hello"), TTL: time.Minute, Topic: "room-1-soon"}); err != nil {
		t.Fatalf("send: %v (rejected %v)", err, rcv.Rejected())
	}
	got := rcv.Received()
	if len(got) != 1 || string(got[0].Payload) != "hello" || got[0].Topic != "room-1-soon" || got[0].TTL != 60 {
		t.Fatalf("received %+v", got)
	}
	other, _ := webpush.NewVAPID([]byte("another install"), "mailto:x@example.com")
	if err := (&webpush.Client{VAPID: other, HTTP: http.DefaultClient}).Send(ctx, sub, webpush.Message{Payload: []byte("x")}); err == nil {
		t.Fatal("another install's key was accepted")
	}
	rcv.Unsubscribe(sub.Endpoint)
	if err := c.Send(ctx, sub, webpush.Message{Payload: []byte("x")}); !errors.Is(err, webpush.ErrGone) {
		t.Fatalf("gone subscription: %v", err)
	}
}
