package fanout

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"strconv"
	"time"
)

// shelfLiveProto is ShelfLive's viewer: an anonymous WebSocket on
// /api/v1/ws?sub=room:ID that resumes from its last epoch.seq after a
// reconnect, like the room page (docs/PROTOCOL.md).
type shelfLiveProto struct{}

func (shelfLiveProto) dial(ctx context.Context, v *viewer) (net.Conn, []byte, error) {
	p := v.p
	c, err := p.dialTCP(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	sub := p.cfg.Topic
	if v.epoch != "" {
		sub += "@" + v.epoch + "." + strconv.FormatUint(v.seq, 10)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	pre, err := handshake(c, p.host, p.path+"sub="+url.QueryEscape(sub)+"&u=bench"+strconv.Itoa(v.n), "")
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	c.SetDeadline(time.Time{})
	return c, pre, nil
}

var (
	slBatch    = []byte(`{"t":"batch"`)
	slEv       = []byte(`{"t":"ev"`)
	slSnapshot = []byte(`{"t":"snapshot"`)
	slOwn      = []byte(`{"t":"own"`)
	slBye      = []byte(`{"t":"bye"`)
	slSeq      = []byte(`"seq":`)
	slEpoch    = []byte(`"epoch":"`)
	slText     = []byte(`"text":"bench `)
	slComments = []byte(`"comments":[`)
	slNext     = []byte(`},{"id":`)
	slCommID   = []byte(`{"id":"`)
	slDropped  = []byte(`"dropped":`)
	slPinID    = []byte(`"pin_id":"`)
	slSlow     = []byte(`"slow_consumer"`)
)

// message does the least parsing needed to measure: counters, resume position,
// commerce-event arrivals, and (for sampled viewers) comment latency and the
// comment account.
func (shelfLiveProto) message(v *viewer, m []byte, now time.Time, _ func([]byte)) {
	p := v.p
	p.frames.Add(1)
	switch {
	case bytes.HasPrefix(m, slBatch), bytes.HasPrefix(m, slOwn):
		if m[6] == 'b' {
			p.batches.Add(1)
		}
		p.comments.Add(uint64(countComments(m)))
		if v.sample {
			sampleComments(v, m, now)
		}
	case bytes.HasPrefix(m, slEv):
		seq, ok := intAfter(m, slSeq)
		if !ok || uint64(seq) <= v.seq {
			return
		}
		v.seq = uint64(seq)
		p.events.Add(1)
		if bytes.Contains(m, p.typeNeedle) {
			if id, ok := stringAfter(m, slPinID); ok {
				v.recordPin(id, now)
			}
		}
	case bytes.HasPrefix(m, slSnapshot):
		if id, ok := stringAfter(m, slEpoch); ok {
			v.epoch = string(id)
		}
		if seq, ok := intAfter(m, slSeq); ok {
			v.seq = uint64(seq)
		}
	case bytes.HasPrefix(m, slBye):
		if bytes.Contains(m, slSlow) {
			p.slowByes.Add(1)
		} else {
			p.otherByes.Add(1)
		}
	}
}

// sampleComments measures each comment's latency from the send time in its
// text and records its id and the frame's dropped count.
func sampleComments(v *viewer, m []byte, now time.Time) {
	p := v.p
	for rest := m; ; {
		i := bytes.Index(rest, slText)
		if i < 0 {
			break
		}
		rest = rest[i+len(slText):]
		if ns, _ := leadingInt(rest); ns > 0 {
			p.commentLat.add(now.Sub(time.Unix(0, ns)))
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.account == nil {
		return
	}
	if d, ok := intAfter(m, slDropped); ok {
		v.account.dropped += d
	}
	i := bytes.Index(m, slComments)
	if i < 0 {
		return
	}
	for rest := m[i:]; ; {
		j := bytes.Index(rest, slCommID)
		if j < 0 {
			return
		}
		rest = rest[j+len(slCommID):]
		if id, ok := leadingInt(rest); ok {
			v.account.add(id)
		}
	}
}

// countComments counts the comments of a batch/own frame cheaply: the array
// starts near the front, and inside it comments are separated by `},{"id":`
// (which cannot occur inside a JSON string, where quotes are escaped).
func countComments(m []byte) int {
	i := bytes.Index(m, slComments)
	if i < 0 || i+len(slComments) >= len(m) || m[i+len(slComments)] == ']' {
		return 0
	}
	return 1 + bytes.Count(m[i:], slNext)
}

func intAfter(m, key []byte) (int64, bool) {
	i := bytes.Index(m, key)
	if i < 0 {
		return 0, false
	}
	return leadingInt(m[i+len(key):])
}

// stringAfter returns the bytes after key up to the next quote (key ends with
// an opening quote; the values read this way have no escapes).
func stringAfter(m, key []byte) ([]byte, bool) {
	i := bytes.Index(m, key)
	if i < 0 {
		return nil, false
	}
	rest := m[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, false
	}
	return rest[:j], true
}

func leadingInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	return n, i > 0
}
