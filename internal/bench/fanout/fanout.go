// Package fanout is `shelflive bench fanout`, the room fan-out load tool: N real
// WebSocket viewers on one room while comments, likes and pins arrive at fixed
// rates for a fixed time, measuring what the viewers receive and how the
// server answers. Three targets share the generators and the viewer pool:
//
//   - --url: a running ShelfLive node through its front door (remote.go), the
//     figure docs/BENCHMARKS.md leads with;
//   - --inproc: the hub and its WebSocket adapter in this process, fed
//     directly (target.go), a microbenchmark of the fan-out alone;
//   - --peer centrifugo --url: Centrifugo with the same workload (centrifugo.go).
//
// Bounded in viewers and time; the last line of output is one JSON object.
package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/bench/proc"
	"github.com/shelflive/shelflive/internal/realtime"
)

// opts are the command-line options of `bench fanout`.
type opts struct {
	viewers       int
	commentsPerS  float64
	likesPerS     float64
	eventsPerS    float64
	duration      time.Duration
	url           string
	room          string
	merchant      string
	token         string
	accounts      int
	phoneOffset   int
	product       int64
	inproc        bool
	serverPID     int
	viewerProcs   int
	sourceIPs     int
	concurrency   int
	tick          time.Duration
	eventType     string
	drain         time.Duration
	commentSample int
	cpuProfile    string
	peer          string // "centrifugo": run the workload against that server at --url instead
}

func parseFlags(args []string, out io.Writer) (*opts, error) {
	o := &opts{}
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.viewers, "viewers", 1000, "number of WebSocket viewers")
	fs.Float64Var(&o.commentsPerS, "comments-per-s", 200, "comments posted per second")
	fs.Float64Var(&o.likesPerS, "likes-per-s", 1000, "like taps per second (sent in batches every 100 ms)")
	fs.Float64Var(&o.eventsPerS, "events-per-s", 5, "commerce events (product pins) per second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "load duration")
	fs.StringVar(&o.url, "url", "", "base URL of a running ShelfLive node (dev mode, SHELFLIVE_RATE_LIMITS=false for the logins), e.g. http://127.0.0.1:8080; with --peer, of that server")
	fs.StringVar(&o.room, "room", "demo", "room slug (with --url); the channel name with --peer")
	fs.StringVar(&o.merchant, "merchant", "demo", "merchant slug the viewer accounts log in to (with --url)")
	fs.StringVar(&o.token, "token", os.Getenv("SHELFLIVE_ADMIN_TOKEN"), "host's bearer token for pins (with --url; default $SHELFLIVE_ADMIN_TOKEN)")
	fs.IntVar(&o.accounts, "accounts", 400, "viewer accounts posting the comments (with --url), each once every accounts/comments-per-s seconds")
	fs.IntVar(&o.phoneOffset, "phone-offset", 0, "first phone number of the accounts (199 + 8 digits)")
	fs.Int64Var(&o.product, "product", 1, "product id to pin")
	fs.BoolVar(&o.inproc, "inproc", false, "microbenchmark: an in-process hub fed directly (no --url needed)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the server, for its CPU and RSS (with --url)")
	fs.IntVar(&o.viewerProcs, "viewer-procs", 1, "child processes for viewers (0: in this process)")
	fs.IntVar(&o.sourceIPs, "source-ips", 8, "loopback source addresses 127.0.0.1..N to spread connections over")
	fs.IntVar(&o.concurrency, "connect-concurrency", 256, "concurrent connection attempts")
	fs.DurationVar(&o.tick, "tick", 100*time.Millisecond, "hub batch interval (with --inproc)")
	fs.StringVar(&o.eventType, "event-type", "card.pinned", "type of the commerce event whose latency is measured")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "how long to wait after the load for late commerce events")
	fs.IntVar(&o.commentSample, "comment-sample", 10, "every Nth viewer measures comment latency and accounts for every comment")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase to this file (viewer children: file.viewersN)")
	fs.StringVar(&o.peer, "peer", "", "run the same workload against another server at --url: centrifugo")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("fanout: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("fanout: unexpected arguments %q", fs.Args())
	}
	switch {
	case o.viewers < 1 || o.viewers > 200000:
		return nil, errors.New("fanout: --viewers must be 1..200000")
	case o.duration <= 0 || o.duration > time.Hour:
		return nil, errors.New("fanout: --duration must be within (0, 1h]")
	case o.commentsPerS < 0 || o.likesPerS < 0 || o.eventsPerS < 0:
		return nil, errors.New("fanout: rates must not be negative")
	case !o.inproc && o.url == "":
		return nil, errors.New("fanout: give --url of a running server, or --inproc")
	case o.inproc && o.url != "":
		return nil, errors.New("fanout: --inproc and --url exclude each other")
	case o.peer != "" && o.peer != "centrifugo":
		return nil, fmt.Errorf("fanout: --peer %q: only centrifugo is supported", o.peer)
	case o.viewerProcs < 0:
		return nil, errors.New("fanout: --viewer-procs must not be negative")
	}
	if o.url != "" && o.peer == "" && o.commentsPerS > 0 {
		// Each account posts once every accounts/rate seconds; the room allows one
		// comment per 0.5 s per author (and the HTTP limit 2/s): keep twice that.
		if o.accounts < 1 || float64(o.accounts)/o.commentsPerS < 1 {
			return nil, fmt.Errorf("fanout: %g comments/s need at least %d --accounts (each posts at most once a second; the room allows one per 0.5 s)",
				o.commentsPerS, int(math.Ceil(o.commentsPerS)))
		}
	}
	return o, nil
}

// Run is `shelflive bench fanout`; see the package comment. The last line
// written to stdout is one JSON object (summary). Its steps: open the
// target, connect the viewers, run the load, drain and collect every
// group's result, summarize.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	if cfg := os.Getenv(childEnv); cfg != "" {
		return runChild(ctx, cfg, stdout)
	}
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	proc.RaiseNoFile()
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format, a...) }

	tgt, err := openTarget(ctx, o, say)
	if err != nil {
		return err
	}
	defer tgt.close()
	vc := tgt.viewerConfig()
	say("fanout: %s, %d viewers on %s, %g comments/s, %g likes/s, %g pins/s for %v; load average %.2f\n",
		tgt.mode(), o.viewers, vc.WSURL, o.commentsPerS, o.likesPerS, o.eventsPerS, o.duration, proc.LoadAvg1())

	var m measures
	proc.SettleMemory()
	m.rssIdle, _ = tgt.rssKiB()
	groups, err := connectViewers(ctx, o, vc, tgt, &m, say)
	defer func() {
		for _, g := range groups {
			g.close()
		}
	}()
	if err != nil {
		return err
	}
	gen := runLoad(ctx, o, tgt, groups, &m)
	res, lat, err := collect(groups, stopMsg{Pins: gen.pins, Accepted: gen.accepted, Drain: o.drain})
	if err != nil {
		return err
	}
	s := summarize(o, tgt, gen, &m, res, lat)
	s.print(stdout, res.LastError)
	line, _ := json.Marshal(s)
	fmt.Fprintln(stdout, string(line))
	return nil
}

// openTarget picks what the viewers connect to: the hub in this process
// (--inproc), Centrifugo (--peer), or a running node (--url).
func openTarget(ctx context.Context, o *opts, say func(string, ...any)) (target, error) {
	switch {
	case o.inproc:
		return newInprocTarget(o)
	case o.peer == "centrifugo":
		return newCentrifugoTarget(o)
	default:
		return newRemoteTarget(ctx, o, say)
	}
}

// measures are the machine's and the server's figures taken around the
// load: memory idle, connected and loaded; CPU, writes and load average
// before and after.
type measures struct {
	rssIdle, rssConnected, rssLoad int64
	haveRSS                        bool
	load1, load2                   float64
	cpu0, cpu1, self0, self1       float64
	writes0, writes1               uint64
	busy0, total0, busy1, total1   float64
}

// connectViewers starts the viewer groups and waits until the target counts
// them all (60 s at most) and their joins' presence batches went out. The
// groups come back on error too: the caller closes them.
func connectViewers(ctx context.Context, o *opts, vc viewerConfig, tgt target, m *measures, say func(string, ...any)) ([]group, error) {
	t0 := time.Now()
	groups, err := startGroups(ctx, o, vc)
	if err != nil {
		return groups, err
	}
	if n := tgt.viewers(); n >= 0 {
		deadline := time.Now().Add(60 * time.Second)
		for tgt.viewers() < o.viewers && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(time.Second) // presence batches of the joins go out
	proc.SettleMemory()
	m.rssConnected, m.haveRSS = tgt.rssKiB()
	say("fanout: %d viewers connected in %.1f s\n", o.viewers, time.Since(t0).Seconds())
	return groups, nil
}

// runLoad runs the generators for the duration while every group counts
// what arrives, measuring CPU, writes and memory around it.
func runLoad(ctx context.Context, o *opts, tgt target, groups []group, m *measures) *genResult {
	for _, g := range groups {
		g.begin()
	}
	m.load1 = proc.LoadAvg1()
	m.cpu0, m.self0, m.writes0 = tgt.cpuTime(), proc.CPUSeconds("self"), tgt.writes()
	m.busy0, m.total0 = proc.MachineCPU()
	stopProfile := proc.CPUProfile(o.cpuProfile)
	gen := runGenerators(ctx, o, tgt)
	for _, g := range groups {
		g.endLoad()
	}
	stopProfile()
	m.busy1, m.total1 = proc.MachineCPU()
	m.cpu1, m.self1, m.writes1 = tgt.cpuTime(), proc.CPUSeconds("self"), tgt.writes()
	m.rssLoad, _ = tgt.rssKiB()
	m.load2 = proc.LoadAvg1()
	tgt.endLoad()
	return gen
}

// collect drains (late commerce events, the last batches), then sums what
// every group reports.
func collect(groups []group, stop stopMsg) (groupResult, latencies, error) {
	var res groupResult
	l := latencies{pins: newHist(), pinsSrv: newHist(), coms: newHist()}
	type answer struct {
		r   groupResult
		err error
	}
	ch := make(chan answer, len(groups))
	for _, g := range groups {
		go func() {
			r, err := g.end(stop)
			ch <- answer{r, err}
		}()
	}
	for range groups {
		a := <-ch
		if a.err != nil {
			return res, l, a.err
		}
		res.add(a.r)
		l.pins.merge(a.r.PinHist)
		l.pinsSrv.merge(a.r.PinSrvHist)
		l.coms.merge(a.r.CommentHist)
	}
	return res, l, nil
}

// latencies are the run's delivery histograms: commerce events from the pin
// request, the same from the server's stamp, and comments.
type latencies struct{ pins, pinsSrv, coms *hist }

// summarize turns the run into the summary. It is long because it is the
// summary's field list, one figure a line.
func summarize(o *opts, tgt target, gen *genResult, m *measures, res groupResult, l latencies) summary {
	pins, coms := l.pins, l.coms
	secs := gen.loadS
	s := summary{
		System:               "shelflive",
		Mode:                 tgt.mode(),
		Viewers:              o.viewers,
		ViewersConnected:     res.Connected,
		DurationS:            round(o.duration.Seconds(), 1),
		LoadS:                round(secs, 2),
		PinsDue:              gen.pinsDue,
		PinsSent:             len(gen.pins),
		PinErrors:            gen.pinErrs,
		CommerceEventsLost:   res.PinLost,
		CommerceP50Ms:        round(pins.quantile(0.50), 1),
		CommerceP99Ms:        round(pins.quantile(0.99), 1),
		CommerceMaxMs:        round(pins.quantile(1), 1),
		CommerceSrvP50Ms:     round(l.pinsSrv.quantile(0.50), 1),
		CommerceSrvP99Ms:     round(l.pinsSrv.quantile(0.99), 1),
		CommentP50Ms:         round(coms.quantile(0.50), 1),
		CommentP99Ms:         round(coms.quantile(0.99), 1),
		CommentPostP50Ms:     round(gen.commentPost.quantile(0.50), 1),
		CommentPostP99Ms:     round(gen.commentPost.quantile(0.99), 1),
		PinPostP50Ms:         round(gen.pinPost.quantile(0.50), 1),
		PinPostP99Ms:         round(gen.pinPost.quantile(0.99), 1),
		LikePostP99Ms:        round(gen.likePost.quantile(0.99), 1),
		CommentsSent:         gen.comments,
		CommentsAccepted:     len(gen.accepted),
		CommentsRejected:     gen.commentErrs,
		CommentSampleViewers: res.Tally.Viewers,
		CommentsExpected:     res.Tally.Expected,
		CommentsShown:        res.Tally.Shown,
		CommentsSampledOut:   res.Tally.SampledOut,
		CommentsMissing:      res.Tally.Missing,
		LikesSent:            gen.likes,
		LikeErrors:           gen.likeErrs,
		FramesPerS:           round(float64(res.Frames)/secs, 0),
		CommentsDelivPerS:    round(float64(res.Comments)/secs, 0),
		CommentsTimelyPerS:   round(float64(res.Comments)/secs*coms.shareWithin(250*time.Millisecond), 0),
		MessagesPerS:         round(float64(res.Comments+res.Likes+res.Events+res.Batches)/secs, 0),
		Reconnects:           res.Reconnects,
		SlowConsumerCloses:   res.SlowByes,
		DialErrors:           res.DialErrors,
		LoadAvgStart:         m.load1,
		LoadAvgEnd:           m.load2,
	}
	if tgt.mode() == "centrifugo" {
		s.System = "centrifugo"
		ct := tgt.(*centrifugoTarget)
		s.LikesDeliveredPerS = round(float64(res.Likes)/secs, 0)
		s.EventsDeliveredPerS = round(float64(res.Events)/secs, 0)
		s.PublishErrors = ct.apiErrs.Load()
		s.PublishLagP50Ms = round(ct.lag.quantile(0.50), 1)
		s.PublishLagP99Ms = round(ct.lag.quantile(0.99), 1)
	}
	if rt, ok := tgt.(*remoteTarget); ok {
		s.CommentRejections = rt.rejections()
	}
	if m.haveRSS {
		s.ServerRSSMiB = round(float64(m.rssLoad)/1024, 1)
		s.ServerRSSIdleMiB = round(float64(m.rssIdle)/1024, 1)
		s.ServerKiBPerViewer = round(float64(m.rssConnected-m.rssIdle)/float64(o.viewers), 1)
	}
	// CPU: this process (+ viewer children, + a remote server with --server-pid).
	self := m.self1 - m.self0
	serverCPU := -1.0
	if m.cpu1 >= 0 && m.cpu0 >= 0 {
		serverCPU = m.cpu1 - m.cpu0
		s.ServerCPUPct = round(100*serverCPU/secs, 0)
	}
	viewersCPU := res.CPUSeconds
	if o.inproc {
		s.LoadCPUPct = round(100*viewersCPU/secs, 0)
	} else {
		s.LoadCPUPct = round(100*(viewersCPU+self)/secs, 0)
	}
	if m.total1 > m.total0 {
		// Share of all cores busy during the load, and how much of it was neither
		// the server nor this tool: other work on the machine skews the figures.
		s.MachineBusyPct = round(100*(m.busy1-m.busy0)/(m.total1-m.total0), 0)
		own := self + res.CPUSeconds
		if !o.inproc && serverCPU > 0 {
			own += serverCPU
		}
		s.OtherCPUPct = round(max(0, 100*((m.busy1-m.busy0)-own)/secs), 0)
	}
	if w := m.writes1 - m.writes0; m.writes1 > m.writes0 && serverCPU > 0 {
		s.ServerWritesPerS = round(float64(w)/secs, 0)
		s.ServerUsPerWrite = round(serverCPU*1e6/float64(w), 2)
	}
	if it, ok := tgt.(*inprocTarget); ok {
		st := it.stats()
		s.ServerEventQueueP99Ms = delayMs(realtime.DelayQuantile(st.ReliableDelay, 0.99))
		s.ServerBatchQueueP99Ms = delayMs(realtime.DelayQuantile(st.LossyDelay, 0.99))
	}
	return s
}

// summary is the last line of the output.
type summary struct {
	System                string           `json:"system"` // shelflive | centrifugo
	Mode                  string           `json:"mode"`   // remote | inproc | centrifugo
	Viewers               int              `json:"viewers"`
	ViewersConnected      int64            `json:"viewers_connected"`
	DurationS             float64          `json:"duration_s"`
	LoadS                 float64          `json:"load_s"` // real length of the load phase; rates use it
	PinsDue               int              `json:"pins_due"`
	PinsSent              int              `json:"pins_sent"` // answered 2xx
	PinErrors             int64            `json:"pin_errors"`
	CommerceEventsLost    uint64           `json:"commerce_events_lost"` // (viewer, sent pin) pairs never delivered
	CommerceP50Ms         float64          `json:"commerce_p50_ms"`      // pin request sent → event at the viewer
	CommerceP99Ms         float64          `json:"commerce_p99_ms"`
	CommerceMaxMs         float64          `json:"commerce_max_ms"`
	CommerceSrvP50Ms      float64          `json:"commerce_server_p50_ms"` // server's stamp in the pin_id → event at the viewer (0: no stamp)
	CommerceSrvP99Ms      float64          `json:"commerce_server_p99_ms"`
	CommentP50Ms          float64          `json:"comment_p50_ms"` // comment request sent → shown at a sampled viewer
	CommentP99Ms          float64          `json:"comment_p99_ms"`
	CommentPostP50Ms      float64          `json:"comment_post_p50_ms"`
	CommentPostP99Ms      float64          `json:"comment_post_p99_ms"`
	PinPostP50Ms          float64          `json:"pin_post_p50_ms"`
	PinPostP99Ms          float64          `json:"pin_post_p99_ms"`
	LikePostP99Ms         float64          `json:"like_post_p99_ms"`
	CommentsSent          int64            `json:"comments_sent"`
	CommentsAccepted      int              `json:"comments_accepted"`
	CommentsRejected      int64            `json:"comments_rejected"`
	CommentRejections     map[string]int64 `json:"comment_rejections,omitempty"` // by problem code
	CommentSampleViewers  int64            `json:"comment_sample_viewers"`
	CommentsExpected      int64            `json:"comments_expected"`    // accepted × sampled viewers
	CommentsShown         int64            `json:"comments_shown"`       // of those, shown
	CommentsSampledOut    int64            `json:"comments_sampled_out"` // left out by design, as the server counted them
	CommentsMissing       int64            `json:"comments_missing"`     // neither shown nor counted as left out
	LikesSent             int64            `json:"likes_sent"`
	LikeErrors            int64            `json:"like_errors"`
	FramesPerS            float64          `json:"frames_per_s"`
	CommentsDelivPerS     float64          `json:"comments_delivered_per_s"`
	CommentsTimelyPerS    float64          `json:"comments_timely_per_s"` // delivered within 250 ms (share from the sampled viewers)
	MessagesPerS          float64          `json:"messages_per_s"`
	LikesDeliveredPerS    float64          `json:"likes_delivered_per_s,omitempty"`
	EventsDeliveredPerS   float64          `json:"events_delivered_per_s,omitempty"`
	PublishErrors         int64            `json:"publish_errors,omitempty"`
	PublishLagP50Ms       float64          `json:"publish_lag_p50_ms,omitempty"`
	PublishLagP99Ms       float64          `json:"publish_lag_p99_ms,omitempty"`
	Reconnects            uint64           `json:"reconnects"`
	SlowConsumerCloses    uint64           `json:"slow_consumer_closes"`
	DialErrors            uint64           `json:"dial_errors"`
	ServerWritesPerS      float64          `json:"server_writes_per_s,omitempty"`
	ServerUsPerWrite      float64          `json:"server_cpu_us_per_write,omitempty"`   // server CPU per socket write
	ServerEventQueueP99Ms float64          `json:"server_event_queue_p99_ms,omitempty"` // inproc: bucket bound, ≤ this
	ServerBatchQueueP99Ms float64          `json:"server_batch_queue_p99_ms,omitempty"`
	ServerRSSMiB          float64          `json:"server_rss_mib,omitempty"`
	ServerRSSIdleMiB      float64          `json:"server_rss_idle_mib,omitempty"`
	ServerKiBPerViewer    float64          `json:"server_kib_per_viewer,omitempty"`
	ServerCPUPct          float64          `json:"server_cpu_pct,omitempty"`
	LoadCPUPct            float64          `json:"load_tool_cpu_pct"` // viewers + generators (100 = one core)
	MachineBusyPct        float64          `json:"machine_busy_pct"`
	OtherCPUPct           float64          `json:"other_cpu_pct"` // CPU used by other processes (100 = one core)
	LoadAvgStart          float64          `json:"loadavg_start"`
	LoadAvgEnd            float64          `json:"loadavg_end"`
}

func (s *summary) print(w io.Writer, lastErr string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, "fanout: "+format+"\n", a...) }
	p("pins: %d due, %d sent (%d errors); events: %d (viewer, pin) lost, p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		s.PinsDue, s.PinsSent, s.PinErrors, s.CommerceEventsLost, s.CommerceP50Ms, s.CommerceP99Ms, s.CommerceMaxMs)
	if s.CommerceSrvP99Ms > 0 {
		p("events from the server's stamp in the pin_id (pin stored, event published): p50 %.1f ms, p99 %.1f ms",
			s.CommerceSrvP50Ms, s.CommerceSrvP99Ms)
	}
	p("comments: %d sent, %d accepted, %d rejected %v; delivery p50 %.1f ms, p99 %.1f ms",
		s.CommentsSent, s.CommentsAccepted, s.CommentsRejected, fmtCodes(s.CommentRejections), s.CommentP50Ms, s.CommentP99Ms)
	p("requests: comment POST p50 %.1f / p99 %.1f ms, pin POST p50 %.1f / p99 %.1f ms, likes p99 %.1f ms",
		s.CommentPostP50Ms, s.CommentPostP99Ms, s.PinPostP50Ms, s.PinPostP99Ms, s.LikePostP99Ms)
	p("%d sampled viewers: %d comment deliveries expected, %d shown, %d sampled out by design, %d missing",
		s.CommentSampleViewers, s.CommentsExpected, s.CommentsShown, s.CommentsSampledOut, s.CommentsMissing)
	p("%.0f frames/s, %.0f messages/s, %.0f comments/s delivered (%.0f/s within 250 ms); %d reconnects, %d slow-consumer closes",
		s.FramesPerS, s.MessagesPerS, s.CommentsDelivPerS, s.CommentsTimelyPerS, s.Reconnects, s.SlowConsumerCloses)
	if s.System == "centrifugo" {
		p("publisher: %d errors, comments/likes queued → batch answered p50 %.1f ms, p99 %.1f ms; %.0f likes/s and %.0f events/s delivered",
			s.PublishErrors, s.PublishLagP50Ms, s.PublishLagP99Ms, s.LikesDeliveredPerS, s.EventsDeliveredPerS)
	}
	if s.ServerUsPerWrite > 0 {
		p("server: %.0f socket writes/s, %.2f µs CPU per write", s.ServerWritesPerS, s.ServerUsPerWrite)
	}
	p("CPU (100%% = one core): server %.0f%%, load tool %.0f%%, other processes %.0f%%; machine %.0f%% busy; load average %.2f → %.2f",
		s.ServerCPUPct, s.LoadCPUPct, s.OtherCPUPct, s.MachineBusyPct, s.LoadAvgStart, s.LoadAvgEnd)
	if s.ServerRSSMiB > 0 {
		p("server RSS %.1f MiB idle, %.1f MiB under load, %.1f KiB per connected viewer", s.ServerRSSIdleMiB, s.ServerRSSMiB, s.ServerKiBPerViewer)
	}
	if lastErr != "" {
		p("last viewer error: %s", lastErr)
	}
}

func fmtCodes(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(parts)
	return "(" + strings.Join(parts, ", ") + ")"
}

func delayMs(d time.Duration) float64 {
	if d < 0 {
		return 99999
	}
	return float64(d) / float64(time.Millisecond)
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
