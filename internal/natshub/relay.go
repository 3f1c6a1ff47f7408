package natshub

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/shelflive/shelflive/internal/realtime"
)

// The lossy classes cross nodes over core NATS (at most once): a lost relay
// message costs some comments or a likes delta on one node, exactly what a
// full viewer queue costs on one node. Each node feeds what it receives into
// its own LocalHub, which batches and samples per tick for its viewers.

// relayComment is one comment bound for the other nodes.
type relayComment struct {
	T string           `json:"t"`
	C realtime.Comment `json:"c"`
}

// relayMsg is what a node sends every RelayInterval when something happened.
type relayMsg struct {
	N string           `json:"n"`           // sending node
	C []relayComment   `json:"c,omitempty"` // comments in arrival order
	L map[string]int64 `json:"l,omitempty"` // like taps per topic
}

// userMsg is a personal message for a user whose socket may be on any node.
type userMsg struct {
	N string          `json:"n"`
	T string          `json:"t"`
	U string          `json:"u"`
	Y string          `json:"y"`
	D json.RawMessage `json:"d"`
}

// presenceMsg is a node's viewer count per topic (topics with viewers only).
type presenceMsg struct {
	N   string         `json:"n"`
	V   map[string]int `json:"v,omitempty"`
	Bye bool           `json:"bye,omitempty"`
}

type nodePresence struct {
	counts map[string]int
	at     time.Time
}

// Bounds of one relay interval: beyond them comments are not relayed (the
// local hub would sample them out anyway) and a message is split.
const (
	maxRelayComments = 4096
	relayChunk       = 256
)

// PublishComment implements realtime.Hub: the comment goes into this node's
// next batch at once and to the other nodes within RelayInterval.
func (h *Hub) PublishComment(topic string, c realtime.Comment) {
	if !realtime.ValidTopic(topic) {
		return
	}
	if c.At.IsZero() {
		c.At = time.Now().UTC()
	}
	h.local.PublishComment(topic, c)
	h.relayMu.Lock()
	if len(h.outCom) < maxRelayComments || c.Host {
		h.outCom = append(h.outCom, relayComment{T: topic, C: c})
	}
	h.relayMu.Unlock()
}

// AddLikes implements realtime.Hub: taps count here at once and are summed
// per topic for the other nodes every RelayInterval.
func (h *Hub) AddLikes(topic string, n int) {
	if n <= 0 || !realtime.ValidTopic(topic) {
		return
	}
	h.local.AddLikes(topic, n)
	h.relayMu.Lock()
	h.outLikes[topic] += int64(n)
	h.relayMu.Unlock()
}

// SendUser implements realtime.Hub: delivered here and sent to every other
// node at once (the user's socket may be anywhere).
func (h *Hub) SendUser(topic, user, typ string, data any) {
	if user == "" || !realtime.ValidTopic(topic) {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		h.log.Error("natshub: send user: encode", "topic", topic, "type", typ, "err", err)
		return
	}
	h.local.SendUser(topic, user, typ, json.RawMessage(raw))
	b, _ := json.Marshal(userMsg{N: h.node, T: topic, U: user, Y: typ, D: raw})
	if err := h.nc.Publish(h.userSubj, b); err != nil {
		h.log.Warn("natshub: send user", "err", err)
		return
	}
	h.nRelayOut.Add(1)
}

// Likes implements realtime.Hub (taps seen by this node, from every node, plus SetLikes).
func (h *Hub) Likes(topic string) int64 { return h.local.Likes(topic) }

// SetLikes implements realtime.Hub (this node only: every node restores the
// total from the database at start).
func (h *Hub) SetLikes(topic string, total int64) { h.local.SetLikes(topic, total) }

// Viewers implements realtime.Hub: this node's viewers plus the latest count
// of every other live node.
func (h *Hub) Viewers(topic string) int {
	n := h.local.Viewers(topic)
	cutoff := time.Now().Add(-3 * h.cfg.PresenceInterval)
	h.presMu.Lock()
	for _, p := range h.remote {
		if p.at.After(cutoff) {
			n += p.counts[topic]
		}
	}
	h.presMu.Unlock()
	return n
}

func (h *Hub) relayLoop() {
	defer h.wg.Done()
	tk := time.NewTicker(h.cfg.RelayInterval)
	defer tk.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tk.C:
			h.flushRelay()
		}
	}
}

// flushRelay sends what was gathered since the last interval.
func (h *Hub) flushRelay() {
	h.relayMu.Lock()
	cs, likes := h.outCom, h.outLikes
	if len(cs) == 0 && len(likes) == 0 {
		h.relayMu.Unlock()
		return
	}
	h.outCom, h.outLikes = nil, make(map[string]int64)
	h.relayMu.Unlock()
	for first := true; first || len(cs) > 0; first = false {
		m := relayMsg{N: h.node}
		k := min(len(cs), relayChunk)
		m.C, cs = cs[:k], cs[k:]
		if first && len(likes) > 0 {
			m.L = likes
		}
		b, err := json.Marshal(m)
		if err != nil {
			h.log.Error("natshub: relay encode", "err", err)
			return
		}
		if err := h.nc.Publish(h.relaySubj, b); err != nil {
			h.log.Warn("natshub: relay", "err", err)
			return
		}
		h.nRelayOut.Add(1)
	}
}

func (h *Hub) onRelay(msg *nats.Msg) {
	var m relayMsg
	if err := json.Unmarshal(msg.Data, &m); err != nil || m.N == h.node {
		return
	}
	h.nRelayIn.Add(1)
	for _, c := range m.C {
		if realtime.ValidTopic(c.T) {
			h.local.PublishComment(c.T, c.C)
		}
	}
	for t, n := range m.L {
		if n > 0 && n <= 1<<31 {
			h.local.AddLikes(t, int(n))
		}
	}
}

func (h *Hub) onUser(msg *nats.Msg) {
	var m userMsg
	if err := json.Unmarshal(msg.Data, &m); err != nil || m.N == h.node || !realtime.ValidTopic(m.T) {
		return
	}
	h.nRelayIn.Add(1)
	h.local.SendUser(m.T, m.U, m.Y, m.D)
}

func (h *Hub) presenceLoop() {
	defer h.wg.Done()
	tk := time.NewTicker(h.cfg.PresenceInterval)
	defer tk.Stop()
	h.publishPresence(false)
	for {
		select {
		case <-h.stop:
			return
		case <-tk.C:
			h.publishPresence(false)
			h.pushRemoteViewers()
		}
	}
}

// publishPresence sends this node's viewer counts (bye: this node is leaving).
func (h *Hub) publishPresence(bye bool) {
	m := presenceMsg{N: h.node, Bye: bye}
	if !bye {
		h.presMu.Lock()
		topics := make([]string, 0, len(h.watched))
		for t := range h.watched {
			topics = append(topics, t)
		}
		h.presMu.Unlock()
		for _, t := range topics {
			if n := h.local.Viewers(t); n > 0 {
				if m.V == nil {
					m.V = make(map[string]int)
				}
				m.V[t] = n
			} else {
				h.presMu.Lock()
				delete(h.watched, t) // a new Subscribe adds it back
				h.presMu.Unlock()
			}
		}
	}
	b, _ := json.Marshal(m)
	if err := h.nc.Publish(h.presSubj, b); err == nil {
		h.nRelayOut.Add(1)
	}
	if bye {
		h.nc.Flush()
	}
}

func (h *Hub) onPresence(msg *nats.Msg) {
	var m presenceMsg
	if err := json.Unmarshal(msg.Data, &m); err != nil || m.N == h.node {
		return
	}
	h.presMu.Lock()
	defer h.presMu.Unlock()
	if m.Bye {
		delete(h.remote, m.N)
		return
	}
	h.remote[m.N] = &nodePresence{counts: m.V, at: time.Now()}
	cutoff := time.Now().Add(-3 * h.cfg.PresenceInterval)
	for n, p := range h.remote {
		if p.at.Before(cutoff) {
			delete(h.remote, n) // that node died without saying bye
		}
	}
}

// remoteViewerSetter is the optional LocalHub hook that lets batch frames
// carry the cluster-wide viewer count (see docs/DEPLOY.md).
type remoteViewerSetter interface {
	SetRemoteViewers(topic string, n int)
}

// pushRemoteViewers tells the local hub how many viewers of its watched
// topics other nodes have, when the local hub supports it.
func (h *Hub) pushRemoteViewers() {
	set, ok := any(h.local).(remoteViewerSetter)
	if !ok {
		return
	}
	cutoff := time.Now().Add(-3 * h.cfg.PresenceInterval)
	sums := map[string]int{}
	h.presMu.Lock()
	for t := range h.watched {
		sums[t] = 0
	}
	for _, p := range h.remote {
		if p.at.After(cutoff) {
			for t, n := range p.counts {
				if _, w := sums[t]; w {
					sums[t] += n
				}
			}
		}
	}
	h.presMu.Unlock()
	for t, n := range sums {
		set.SetRemoteViewers(t, n)
	}
}
