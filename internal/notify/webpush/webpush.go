// Package webpush sends Web Push messages: the payload encrypted as
// RFC 8291 ("aes128gcm", RFC 8188) for the browser's subscription keys and
// the request signed with the install's VAPID key (RFC 8292, ES256 JWT).
// Only the standard library and golang.org/x/crypto/hkdf: the Go Web Push
// module is not served by the module proxy here, and the protocol is small.
package webpush

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/hkdf"
)

// Subscription is what the browser's PushManager.subscribe() answers.
type Subscription struct {
	Endpoint string `json:"endpoint"`
	P256DH   string `json:"p256dh"` // the browser's public key, base64url, 65 bytes uncompressed
	Auth     string `json:"auth"`   // the auth secret, base64url, 16 bytes
}

// b64 decodes base64url with or without padding (browsers send either).
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// Check validates the keys' shapes and the endpoint's URL.
func (s Subscription) Check(allowHTTP bool) error {
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || (allowHTTP && u.Scheme == "http")) || len(s.Endpoint) > 1024 {
		return errors.New("endpoint must be an https URL")
	}
	pub, err := b64(s.P256DH)
	if err != nil {
		return errors.New("p256dh is not base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return errors.New("p256dh is not a P-256 point")
	}
	if a, err := b64(s.Auth); err != nil || len(a) != 16 {
		return errors.New("auth must be 16 bytes")
	}
	return nil
}

// recordSize is the rs of the one record we send (RFC 8188 §2.1).
const recordSize = 4096

// Encrypt seals payload for the subscription (RFC 8291 §3.4): a fresh
// ECDH key and salt per message; one record, padding delimiter 0x02.
func Encrypt(sub Subscription, payload []byte) ([]byte, error) {
	uaPub, err := b64(sub.P256DH)
	if err != nil {
		return nil, err
	}
	auth, err := b64(sub.Auth)
	if err != nil {
		return nil, err
	}
	uaKey, err := ecdh.P256().NewPublicKey(uaPub)
	if err != nil {
		return nil, err
	}
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return encrypt(uaKey, auth, as, salt, payload)
}

// encrypt is Encrypt with the sender's key and the salt given (the RFC's
// test vector fixes both).
func encrypt(uaKey *ecdh.PublicKey, auth []byte, as *ecdh.PrivateKey, salt, payload []byte) ([]byte, error) {
	uaPub := uaKey.Bytes()
	secret, err := as.ECDH(uaKey)
	if err != nil {
		return nil, err
	}
	asPub := as.PublicKey().Bytes()
	cek, nonce, err := keys(secret, auth, uaPub, asPub, salt)
	if err != nil {
		return nil, err
	}
	if len(payload)+1+16 > recordSize {
		return nil, errors.New("webpush: payload too large")
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	plain := append(append(make([]byte, 0, len(payload)+1), payload...), 0x02)
	var out bytes.Buffer
	out.Write(salt)
	binary.Write(&out, binary.BigEndian, uint32(recordSize))
	out.WriteByte(byte(len(asPub)))
	out.Write(asPub)
	out.Write(gcm.Seal(nil, nonce, plain, nil))
	return out.Bytes(), nil
}

// keys derives the content key and nonce (RFC 8291 §3.3-3.4, RFC 8188 §2.2).
func keys(secret, auth, uaPub, asPub, salt []byte) (cek, nonce []byte, err error) {
	info := append(append([]byte("WebPush: info\x00"), uaPub...), asPub...)
	ikm := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, auth, info), ikm); err != nil {
		return nil, nil, err
	}
	prk := hkdf.Extract(sha256.New, ikm, salt)
	cek, nonce = make([]byte, 16), make([]byte, 12)
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, prk, []byte("Content-Encoding: aes128gcm\x00")), cek); err != nil {
		return nil, nil, err
	}
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, prk, []byte("Content-Encoding: nonce\x00")), nonce); err != nil {
		return nil, nil, err
	}
	return cek, nonce, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Decrypt opens a message with the browser's private key and auth secret,
// as a browser (or a test receiver) does.
func Decrypt(ua *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 16+4+1 {
		return nil, errors.New("webpush: short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("webpush: bad header")
	}
	asPub := body[21 : 21+idlen]
	ct := body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, errors.New("webpush: more than one record")
	}
	asKey, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := ua.ECDH(asKey)
	if err != nil {
		return nil, err
	}
	cek, nonce, err := keys(secret, auth, ua.PublicKey().Bytes(), asPub, salt)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if i < 0 || plain[i] != 0x02 {
		return nil, errors.New("webpush: no last-record delimiter")
	}
	return plain[:i], nil
}

// VAPID is the install's application server key (RFC 8292).
type VAPID struct {
	key     *ecdsa.PrivateKey
	pub     []byte // uncompressed point
	Subject string // mailto: or https: contact for push services

	mu   sync.Mutex
	jwts map[string]cachedJWT // per audience (push service origin)
}

type cachedJWT struct {
	token string
	until time.Time
}

// NewVAPID makes the key from 32 secret bytes (the install's stored
// "vapid" secret), so every node signs with the same key.
func NewVAPID(seed []byte, subject string) (*VAPID, error) {
	h := sha256.Sum256(append([]byte("shelflive vapid\x00"), seed...))
	d := new(big.Int).SetBytes(h[:])
	n := new(big.Int).Sub(elliptic.P256().Params().N, big.NewInt(1))
	d.Mod(d, n).Add(d, big.NewInt(1)) // 1 ≤ d < n
	raw := make([]byte, 32)
	d.FillBytes(raw)
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, err
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	return &VAPID{key: key, pub: pub, Subject: subject, jwts: map[string]cachedJWT{}}, nil
}

// PublicKey is the applicationServerKey the page subscribes with (base64url).
func (v *VAPID) PublicKey() string { return base64.RawURLEncoding.EncodeToString(v.pub) }

// header is the Authorization value for a push service origin; the JWT is
// signed once per origin and reused for an hour (it is valid for 12).
func (v *VAPID) header(aud string, now time.Time) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.jwts[aud]; ok && now.Before(c.until) {
		return c.token, nil
	}
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "ES256"})
	claims, _ := json.Marshal(map[string]any{"aud": aud, "exp": now.Add(12 * time.Hour).Unix(), "sub": v.Subject})
	signing := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, v.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	token := "vapid t=" + signing + "." + enc.EncodeToString(sig) + ", k=" + v.PublicKey()
	v.jwts[aud] = cachedJWT{token: token, until: now.Add(time.Hour)}
	return token, nil
}

// ErrGone is a subscription the push service says no longer exists (404,
// 410): the caller removes it.
var ErrGone = errors.New("webpush: subscription gone")

// Message is one push: its payload (JSON the service worker shows), how
// long the push service may hold it, and a topic that replaces an
// undelivered message of the same topic (a resend after a crash replaces
// rather than repeats).
type Message struct {
	Payload []byte
	TTL     time.Duration
	Topic   string // ≤ 32 URL-safe base64 characters
	Urgency string // very-low | low | normal | high
}

// Client sends pushes.
type Client struct {
	VAPID *VAPID
	HTTP  *http.Client
	Now   func() time.Time
}

// Send encrypts and posts one message; nil when the push service took it
// (201/202), ErrGone when the subscription is gone, an error otherwise.
func (c *Client) Send(ctx context.Context, sub Subscription, m Message) error {
	body, err := Encrypt(sub, m.Payload)
	if err != nil {
		return err
	}
	u, err := url.Parse(sub.Endpoint)
	if err != nil {
		return err
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	auth, err := c.VAPID.header(u.Scheme+"://"+u.Host, now)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(int(ttl/time.Second)))
	if m.Topic != "" {
		req.Header.Set("Topic", m.Topic)
	}
	if m.Urgency != "" {
		req.Header.Set("Urgency", m.Urgency)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return ErrGone
	case resp.StatusCode/100 == 2:
		return nil
	}
	return fmt.Errorf("webpush: push service answered %d", resp.StatusCode)
}
