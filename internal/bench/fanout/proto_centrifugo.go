package fanout

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// centrifugoProto is a Centrifugo viewer: its JSON client protocol (v2) over the
// same raw WebSocket as ShelfLive's viewers. `{"id":1,"connect":{"token":…}}`
// and `{"id":2,"subscribe":{"channel":…}}` in one frame, newline-separated;
// publications arrive as `{"push":{"channel":…,"pub":{"data":…}}}`; the
// server's ping `{}` must be answered with `{}`. The channel has no history,
// so a reconnect only subscribes again.
type centrifugoProto struct{}

// centrifugoJWT returns an HS256 connection token for user sub, valid for ttl.
// Centrifugo needs only "sub" (and checks "exp").
func centrifugoJWT(secret, sub string, ttl time.Duration) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"sub": sub, "exp": time.Now().Add(ttl).Unix()})
	msg := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(m.Sum(nil))
}

// centrifugoCommands is the first client frame: connect, then subscribe.
func centrifugoCommands(token, channel string) []byte {
	b := []byte(`{"id":1,"connect":{"token":`)
	b = strconv.AppendQuote(b, token)
	b = append(b, `,"name":"shelflive-bench"}}`+"\n"+`{"id":2,"subscribe":{"channel":`...)
	b = strconv.AppendQuote(b, channel)
	return append(b, `}}`...)
}

func (centrifugoProto) dial(ctx context.Context, v *viewer) (net.Conn, []byte, error) {
	p := v.p
	c, err := p.dialTCP(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Conn, []byte, error) {
		c.Close()
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	buf, err := handshake(c, p.host, p.path, "")
	if err != nil {
		return fail(err)
	}
	token := centrifugoJWT(p.cfg.Secret, "bench"+strconv.Itoa(v.n), 2*time.Hour)
	if _, err := c.Write(clientFrame(0x1, centrifugoCommands(token, p.cfg.Topic))); err != nil {
		return fail(err)
	}
	// Read until the subscribe reply; publications may already follow it and
	// are handled like any other. v.subscribed is set by message.
	v.subscribed, v.msg = false, nil
	var refused error
	reply := func(frame []byte) { c.Write(frame) }
	var tmp [4096]byte
	for {
		used, closed := v.feed(buf, func(frame []byte) {
			if frame[0]&0x0f == 0x8 {
				refused = errors.New("centrifugo connect: closed by the server")
			}
			reply(frame)
		})
		buf = buf[used:]
		if v.subscribed {
			break
		}
		if closed || refused != nil {
			return fail(fmt.Errorf("centrifugo connect: refused (%v)", refused))
		}
		n, err := c.Read(tmp[:])
		if err != nil {
			return fail(fmt.Errorf("centrifugo connect: %w", err))
		}
		buf = append(buf, tmp[:n]...)
	}
	c.SetDeadline(time.Time{})
	return c, append([]byte(nil), buf...), nil
}

var (
	cfPush      = []byte(`{"push":`)
	cfData      = []byte(`"data":{"t":"`)
	cfPing      = []byte(`{}`)
	cfConnect   = []byte(`{"id":1,"connect":`)
	cfSubscribe = []byte(`{"id":2,"subscribe":`)
	cfError     = []byte(`"error":`)
	cfCommentID = []byte(`"id":"`)
)

// message handles one WebSocket message: one or more newline-separated replies
// and pushes.
func (centrifugoProto) message(v *viewer, m []byte, now time.Time, reply func([]byte)) {
	v.p.frames.Add(1)
	for len(m) > 0 {
		line, rest, _ := bytes.Cut(m, []byte("\n"))
		centrifugoLine(v, line, now, reply)
		m = rest
	}
}

func centrifugoLine(v *viewer, m []byte, now time.Time, reply func([]byte)) {
	p := v.p
	switch {
	case bytes.Equal(m, cfPing):
		reply(clientFrame(0x1, cfPing))
		return
	case bytes.HasPrefix(m, cfConnect), bytes.HasPrefix(m, cfSubscribe):
		if bytes.Contains(m, cfError) {
			p.lastErr.Store(string(m))
			reply(clientFrame(0x8, nil)) // dial sees the close and fails
			return
		}
		if bytes.HasPrefix(m, cfSubscribe) {
			v.subscribed = true
		}
		return
	case !bytes.HasPrefix(m, cfPush):
		return
	}
	i := bytes.Index(m, cfData)
	if i < 0 || i+len(cfData) >= len(m) {
		return
	}
	data := m[i+len(cfData)-len(`{"t":"`):]
	switch data[len(`{"t":"`)] {
	case 'l':
		p.likes.Add(1)
	case 'c':
		p.comments.Add(1)
		if v.sample {
			if ns, ok := intAfter(data, slText); ok && ns > 0 {
				p.commentLat.add(now.Sub(time.Unix(0, ns)))
			}
			if id, ok := intAfter(data, cfCommentID); ok {
				v.mu.Lock()
				if v.account != nil {
					v.account.add(id)
				}
				v.mu.Unlock()
			}
		}
	case 'e':
		p.events.Add(1)
		if bytes.Contains(data, p.typeNeedle) {
			if id, ok := stringAfter(data, slPinID); ok {
				v.recordPin(id, now)
			}
		}
	}
}
