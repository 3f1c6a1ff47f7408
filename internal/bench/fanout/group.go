package fanout

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shelflive/shelflive/internal/bench/proc"
)

// childEnv carries a viewer child's configuration. A child is this same
// executable started with the same arguments, so it reaches Run again
// through whatever command line wired it (`shelflive bench fanout …` or a test).
const childEnv = "SHELFLIVE_FANOUT_CHILD"

// groupResult is what a viewer group measured.
type groupResult struct {
	Connected   int64        `json:"connected"`
	Frames      uint64       `json:"frames"`
	Batches     uint64       `json:"batches"`
	Comments    uint64       `json:"comments"`
	Likes       uint64       `json:"likes"`
	Events      uint64       `json:"events"`
	Reconnects  uint64       `json:"reconnects"`
	SlowByes    uint64       `json:"slow_byes"`
	DialErrors  uint64       `json:"dial_errors"`
	PinLost     uint64       `json:"pin_lost"`
	CPUSeconds  float64      `json:"cpu_s"` // viewer process CPU during the load
	PinHist     [][2]uint64  `json:"pin_hist"`
	PinSrvHist  [][2]uint64  `json:"pin_srv_hist,omitempty"` // from the server's stamp`
	CommentHist [][2]uint64  `json:"comment_hist"`
	Tally       commentTally `json:"tally"`
	LastError   string       `json:"last_error,omitempty"`
}

func (r *groupResult) add(o groupResult) {
	r.Connected += o.Connected
	r.Frames += o.Frames
	r.Batches += o.Batches
	r.Comments += o.Comments
	r.Likes += o.Likes
	r.Events += o.Events
	r.Reconnects += o.Reconnects
	r.SlowByes += o.SlowByes
	r.DialErrors += o.DialErrors
	r.PinLost += o.PinLost
	r.CPUSeconds += o.CPUSeconds
	r.Tally.add(o.Tally)
	if r.LastError == "" {
		r.LastError = o.LastError
	}
}

// stopMsg ends the load for a group: what was sent, and how long to wait.
type stopMsg struct {
	Pins     []sentPin     `json:"pins"`
	Accepted []int64       `json:"accepted"`
	Drain    time.Duration `json:"drain"`
}

type group interface {
	begin()                             // the load starts: reset counters
	endLoad()                           // the load stopped: take the counters (rates are per second of load)
	end(s stopMsg) (groupResult, error) // after the drain: latencies and losses
	close()
}

func startGroups(ctx context.Context, o *opts, base viewerConfig) ([]group, error) {
	base.SourceIPs, base.Concurrency = o.sourceIPs, o.concurrency
	base.EventType, base.CommentSample = o.eventType, o.commentSample
	if o.cpuProfile != "" {
		base.CPUProfile = o.cpuProfile + ".viewers"
	}
	if o.viewerProcs == 0 {
		cfg := base
		cfg.Viewers = o.viewers
		g, err := newLocalGroup(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return []group{g}, nil
	}
	per := (o.viewers + o.viewerProcs - 1) / o.viewerProcs
	type started struct {
		g   group
		err error
	}
	ch := make(chan started, o.viewerProcs)
	n := 0
	for off := 0; off < o.viewers; off += per {
		cfg := base
		cfg.Offset, cfg.Viewers = off, min(per, o.viewers-off)
		if cfg.CPUProfile != "" {
			cfg.CPUProfile += strconv.Itoa(n)
		}
		n++
		go func() {
			g, err := newProcGroup(ctx, cfg)
			ch <- started{g, err}
		}()
	}
	var groups []group
	var firstErr error
	for i := 0; i < n; i++ {
		s := <-ch
		if s.err != nil && firstErr == nil {
			firstErr = s.err
		}
		if s.g != nil {
			groups = append(groups, s.g)
		}
	}
	return groups, firstErr
}

// localGroup runs viewers in this process.
type localGroup struct {
	p                                             *pool
	frames0, batches0, comments0, likes0, events0 uint64
	load                                          groupResult // counters at the load's end
	cpu0                                          float64
	ownProcess                                    bool // the group is a whole (child) process: report its CPU
}

func newLocalGroup(ctx context.Context, cfg viewerConfig) (*localGroup, error) {
	p, err := newPool(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.connectAll(ctx); err != nil {
		p.close()
		return nil, err
	}
	return &localGroup{p: p}, nil
}

func (g *localGroup) begin() {
	p := g.p
	g.frames0, g.batches0, g.comments0 = p.frames.Load(), p.batches.Load(), p.comments.Load()
	g.likes0, g.events0 = p.likes.Load(), p.events.Load()
	g.cpu0 = proc.CPUSeconds("self")
	p.resetAccounts()
}

func (g *localGroup) endLoad() {
	p := g.p
	g.load = groupResult{
		Frames:   p.frames.Load() - g.frames0,
		Batches:  p.batches.Load() - g.batches0,
		Comments: p.comments.Load() - g.comments0,
		Likes:    p.likes.Load() - g.likes0,
		Events:   p.events.Load() - g.events0,
	}
	if g.ownProcess {
		g.load.CPUSeconds = proc.CPUSeconds("self") - g.cpu0
	}
}

func (g *localGroup) end(s stopMsg) (groupResult, error) {
	p := g.p
	deadline := time.Now().Add(s.Drain)
	for !p.pinsComplete(s.Pins) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the last comment batches (one tick and a little)
	r := g.load
	r.Connected = p.connected.Load()
	h, hs := newHist(), newHist()
	_, r.PinLost = p.pinLatencies(s.Pins, h, hs)
	r.PinHist, r.PinSrvHist = h.sparse(), hs.sparse()
	r.CommentHist = p.commentLat.sparse()
	r.Tally = p.tallyComments(s.Accepted)
	r.Reconnects, r.SlowByes, r.DialErrors = p.reconnects.Load(), p.slowByes.Load(), p.dialErrors.Load()
	if e, _ := p.lastErr.Load().(string); e != "" {
		r.LastError = e
	}
	return r, nil
}

func (g *localGroup) close() { g.p.close() }

// procGroup runs viewers in a child process (this executable, same arguments,
// configuration in the environment), talking over its stdin/stdout.
type procGroup struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	once  sync.Once
}

func newProcGroup(ctx context.Context, cfg viewerConfig) (*procGroup, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fanout: child: %w", err)
	}
	b, _ := json.Marshal(cfg)
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fanout: start child: %w", err)
	}
	g := &procGroup{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "FANOUT-") {
				g.lines <- line
			}
		}
		close(g.lines)
	}()
	select {
	case line, ok := <-g.lines:
		if !ok || !strings.HasPrefix(line, "FANOUT-READY") {
			g.close()
			return nil, fmt.Errorf("fanout: child did not connect its viewers (%q)", line)
		}
	case <-ctx.Done():
		g.close()
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		g.close()
		return nil, errors.New("fanout: child: timeout connecting viewers")
	}
	return g, nil
}

func (g *procGroup) begin()   { fmt.Fprintln(g.in, "START") }
func (g *procGroup) endLoad() { fmt.Fprintln(g.in, "LOADEND") }

func (g *procGroup) end(s stopMsg) (groupResult, error) {
	b, _ := json.Marshal(s)
	fmt.Fprintf(g.in, "STOP %s\n", b)
	for line := range g.lines {
		if rest, ok := strings.CutPrefix(line, "FANOUT-RESULT "); ok {
			var r groupResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return r, fmt.Errorf("fanout: child result: %w", err)
			}
			return r, nil
		}
	}
	return groupResult{}, errors.New("fanout: child ended without a result")
}

func (g *procGroup) close() {
	g.once.Do(func() {
		g.in.Close() // the child closes its viewers and exits
		done := make(chan struct{})
		go func() { g.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			g.cmd.Process.Kill()
			<-done
		}
	})
}

// runChild is the child side of procGroup.
func runChild(ctx context.Context, cfgJSON string, stdout io.Writer) error {
	var cfg viewerConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return fmt.Errorf("fanout child: config: %w", err)
	}
	proc.RaiseNoFile()
	g, err := newLocalGroup(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stdout, "FANOUT-ERROR %v\n", err)
		return err
	}
	g.ownProcess = true
	defer g.close()
	fmt.Fprintf(stdout, "\nFANOUT-READY %d\n", cfg.Viewers)
	stopProfile := func() {}
	defer func() { stopProfile() }()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "START":
			g.begin()
			stopProfile = proc.CPUProfile(cfg.CPUProfile)
		case line == "LOADEND":
			stopProfile()
			stopProfile = func() {}
			g.endLoad()
		case strings.HasPrefix(line, "STOP "):
			var s stopMsg
			if err := json.Unmarshal([]byte(line[5:]), &s); err != nil {
				return fmt.Errorf("fanout child: stop: %w", err)
			}
			r, _ := g.end(s)
			b, _ := json.Marshal(r)
			fmt.Fprintf(stdout, "\nFANOUT-RESULT %s\n", b)
		}
	}
	return nil
}
