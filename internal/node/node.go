// Package node wires one ShelfLive process: database, domain services,
// realtime hub, HTTP server and background work. cmd/shelflive runs it;
// tests start it in-process on a free port.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/shelflive/shelflive/internal/delivery/kuaidi100"
	"github.com/shelflive/shelflive/internal/wxmini"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/epcishttp"
	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/llm"
	"github.com/shelflive/shelflive/internal/moderation"
	"github.com/shelflive/shelflive/internal/mqttingest"
	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/notify/webpush"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/realtime"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/sms"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/video"
	"github.com/shelflive/shelflive/internal/web"
	"github.com/shelflive/shelflive/internal/webhooks"
	"github.com/shelflive/shelflive/internal/wecom"
)

// Main is the running program: config in, wired services out. Tests start
// it in-process on a free port.
type Main struct {
	Config   *Config
	Logger   *slog.Logger
	DB       *sqldb.DB
	App      *app.App
	Server   *web.Server
	HTTP     *http.Server
	Listener net.Listener
	// DebugListener serves the profiler when Config.DebugAddr is set.
	DebugListener net.Listener

	Files objstore.Store // uploads and recordings: the data dir, or S3 (SHELFLIVE_S3_URL)
	s3    *objstore.S3   // Files when it is S3 (readiness), else nil

	Video *video.Server // embedded video, nil when off or external

	Webhooks *webhooks.Dispatcher // sends merchants' webhooks (on the leader)
	NATS     *natshub.Hub         // room fan-out between nodes; nil on a single node
	hooks    *video.Hooks

	ColdChain   *coldchain.Service     // telemetry, excursion rules, holds
	MQTT        *mqttingest.Broker     // embedded broker, nil when SHELFLIVE_MQTT_ADDR is empty
	mqttSub     *mqttingest.Subscriber // external broker, nil when SHELFLIVE_MQTT_URL is empty
	coldStarted bool

	// SetupToken is made at start while no merchant exists: whoever holds
	// it may create the first merchant at /setup (printed by the banner).
	SetupToken string
	closed     bool
	dirLock    *sqldb.DirLock // shared lock on the data dir (restore refuses while held)

	cancel    context.CancelFunc
	done      chan struct{}
	videoDone chan struct{} // closed when ingest stopped and recordings are finalized and copied
}

// openMedia sets up video: the embedded RTMP server, or hooks for an
// external media server. An empty RTMP address turns embedded video off.
func (m *Main) openMedia() error {
	c, a := m.Config, m.App
	switch c.Media {
	case "off":
	case "external":
		tpl := video.PlaybackTemplates{FLV: c.MediaFLV, HLS: c.MediaHLS, Replay: c.MediaReplay}
		m.hooks = video.NewHooks(app.VideoRooms{App: a}, video.HooksConfig{Playback: tpl, Secret: c.MediaSecret, Logger: m.Logger})
		a.Media = externalMedia{hooks: m.hooks, templates: tpl, ingest: c.MediaIngest}
	case "embedded", "":
		if c.RTMPAddr == "" {
			return nil
		}
		vc := video.Config{DataDir: c.DataDir, RTMPAddr: c.RTMPAddr, Rooms: app.VideoRooms{App: a}, Logger: m.Logger}
		if m.s3 != nil {
			vc.Store = m.s3 // recordings are copied there; with the local store they already are in the data dir
		}
		vs, err := video.New(vc)
		if err != nil {
			// A taken port must not keep the shop closed: rooms show their
			// poster until video is fixed, and the log says why.
			m.Logger.Error("video is off: the RTMP ingest cannot listen; set SHELFLIVE_RTMP_ADDR to a free address", "addr", c.RTMPAddr, "err", err)
			return nil
		}
		m.Video = vs
		a.Media = embeddedMedia{vs: vs}
		a.Clipper = clipCutter{vs: vs, files: m.Files}
	default:
		return fmt.Errorf("unknown SHELFLIVE_MEDIA %q (embedded, external, off)", c.Media)
	}
	return nil
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// Open opens the database, seeds demo data and wires every service. It is
// long because it is the one place the process is put together: a
// constructor a service, in the order they depend on each other, so reading
// it top to bottom shows what is wired to what (habit 3 in STYLE.md).
func (m *Main) Open(ctx context.Context) error {
	c := m.Config
	if m.Logger == nil {
		m.Logger = newLogger(c.LogFormat)
	}
	if err := checkProduction(c); err != nil {
		return err
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// Held (shared) while the node runs: `shelflive restore` refuses to
	// replace a database a server is using.
	lock, err := sqldb.LockDataDir(c.DataDir, false)
	if err != nil {
		return err
	}
	m.dirLock = lock
	if err := m.openFiles(ctx); err != nil {
		return err
	}
	db, err := sqldb.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return err
	}
	m.DB = db
	users := &sqldb.IdentityStore{DB: db}
	deps := demo.Deps{Users: users, Catalog: &sqldb.CatalogStore{DB: db}, Stores: &sqldb.StoreRepo{DB: db},
		Inventory: &sqldb.InventoryStore{DB: db}, Live: &sqldb.LiveStore{DB: db}, DataDir: c.DataDir, Images: m.Files, Now: db.Now()}
	if c.Demo && c.DemoColdChain {
		deps.ColdChain, deps.Events = &sqldb.ColdChainStore{DB: db}, sqldb.NewEPCISStore(db)
	}
	if c.Demo {
		seeded, err := demo.Seed(ctx, deps)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if seeded {
			m.Logger.Info("demo data created", "merchant", demo.MerchantSlug)
		}
	}
	secret, err := paySecret(c)
	if err != nil {
		return err
	}
	smsSender, err := m.openSMS(db)
	if err != nil {
		return err
	}
	orders := &sqldb.OrderStore{DB: db}
	nodeName := nodeID(c.DataDir)
	a := &app.App{
		Identity: &identity.Service{Store: users, SMS: smsSender, DevOTP: c.DevMode && c.SMS.Provider == "dev", SessionTTL: 12 * time.Hour, Now: db.Now,
			CacheTTL: c.SessionCache, Logger: m.Logger},
		Users:      users,
		Catalog:    deps.Catalog,
		Stores:     deps.Stores,
		Inventory:  deps.Inventory,
		Live:       deps.Live,
		Orders:     orders,
		Flash:      &sqldb.FlashStore{DB: db, Fence: nodeName},
		FlashNaive: c.FlashNaive,
		NaiveFlash: &sqldb.FlashStore{DB: db},
		Leases:     db,
		NodeID:     nodeName,
		SelfURL:    m.peerURL,
		Payments:   orders,
		Audit:      db,
		Privacy:    db,
		Logger:     m.Logger,
		Now:        db.Now,
		ReserveFor: c.ReserveFor,
		Moderator:  &live.Moderator{Blocked: live.DefaultBlocked, MinGap: 500 * time.Millisecond},
		Compliance: compliance.NewService(&sqldb.ComplianceStore{DB: db}, db.Now),
	}
	if a.MiniProgram, err = wxmini.New(c.MiniProgramAppID, c.MiniProgramSecret, c.MiniProgramBaseURL, nil); err != nil {
		return fmt.Errorf("wechat mini-program: %w", err)
	}
	if a.MiniProgram != nil {
		if a.MiniProgram.Templates, err = wxmini.ParseTemplates(c.MiniProgramTemplates); err != nil {
			return fmt.Errorf("wechat mini-program: %w", err)
		}
	}
	modStore := &sqldb.ModerationStore{DB: db}
	a.Moderation, a.Strikes = modStore, &moderation.Strikes{}
	a.Words = &moderation.WordCache{Load: modStore.Words, Now: db.Now}
	insightStore := &sqldb.InsightStore{DB: db}
	a.Insight = insightStore
	a.Signals = insightStore
	if c.Analytics {
		a.Analytics = &insight.Recorder{Store: insightStore, Logger: m.Logger}
		a.Comments = &insight.Reader{Seg: insight.NewSegmenter(), Store: insightStore, Catalog: a.CatalogProducts, Logger: m.Logger}
	}
	a.Clearance = &sqldb.ClearanceStore{DB: db}
	a.Polls = &sqldb.PollStore{DB: db}
	couponStore := &sqldb.CouponStore{DB: db, Fence: nodeName}
	a.Coupons = couponStore
	a.Draws = &sqldb.DrawStore{DB: db}
	a.DrawPrizes = couponStore
	a.CouponNaive = c.CouponNaive
	a.Members = &sqldb.MemberStore{DB: db}
	reminderStore := &sqldb.ReminderStore{DB: db}
	a.Reminders, a.MiniGrants = reminderStore, reminderStore
	a.Aftersales = &sqldb.AftersaleStore{DB: db}
	a.Household = &sqldb.HouseholdStore{DB: db}
	a.Presales = &sqldb.PresaleStore{DB: db}
	a.Cocreate = &sqldb.CocreateStore{DB: db}
	a.Pickup = &sqldb.PickupStore{DB: db}
	a.Tracking.Store, a.Tracking.Every = &sqldb.ShipmentStore{DB: db}, c.TrackEvery
	if c.Kuaidi100Customer != "" {
		a.Tracking.Tracker = &kuaidi100.Client{Customer: c.Kuaidi100Customer, Key: c.Kuaidi100Key, URL: c.Kuaidi100URL}
	}
	a.Clips = &sqldb.ClipStore{DB: db}
	a.Fans = &sqldb.FanStore{DB: db}
	a.Trials = &sqldb.TrialStore{DB: db}
	whStore := &sqldb.WebhookStore{DB: db}
	if key, err := secretKey(c); err == nil && key != "" {
		if box, err := secretbox.New(key); err == nil {
			whStore.Box = box // signing secrets sealed at rest, like payment keys
		}
	}
	a.Webhooks = whStore
	a.WebhooksAllowPrivate = c.WebhooksAllowPrivate
	m.Webhooks = &webhooks.Dispatcher{Store: a.Webhooks, Client: webhooks.GuardedClient(c.WebhooksAllowPrivate, 10*time.Second),
		Logger: m.Logger, Now: db.Now, IsLeader: a.IsLeader, Disabled: a.WebhookDisabled}
	a.WebhookKick = m.Webhooks.Kick
	hubOpts := realtime.Options{Snapshot: a.Snapshot, Logger: m.Logger}
	if c.NATSURL != "" {
		h, err := natshub.Open(ctx, natshub.Config{URL: c.NATSURL, Prefix: c.NATSPrefix, Local: hubOpts, Logger: m.Logger})
		if err != nil {
			return err
		}
		m.NATS = h
		a.Hub = h
		if err := listenRevocations(h, a.Identity); err != nil {
			h.Close()
			return err
		}
	} else {
		a.Hub = realtime.NewHub(hubOpts)
	}
	a.Provider = &payment.Dev{Secret: secret, Client: &http.Client{Timeout: 10 * time.Second},
		CallbackURL: func() string { return m.URL() + "/api/v1/payments/dev/callback" }}
	accounts, err := m.openPayments(db)
	if err != nil {
		return err
	}
	a.Pay = app.Payments{Accounts: accounts, DevPayments: c.DevMode, PublicURL: m.publicURL}
	smsProvider := c.SMS.Provider
	if smsProvider == "" || (smsProvider == "dev" && !c.DevMode) {
		smsProvider = "off"
	}
	a.SMS = app.SMSConfig{Provider: smsProvider, Install: sms.Settings{SignName: c.SMS.SignName, Template: c.SMS.Template}, Store: &sqldb.SMSSettingsStore{DB: db}}
	if c.AdminToken != "" && c.Demo {
		if mer, err := users.MerchantBySlug(ctx, demo.MerchantSlug); err == nil {
			if err := a.Identity.EnsureToken(ctx, mer.ID, identity.RoleOwner, "SHELFLIVE_ADMIN_TOKEN", c.AdminToken); err != nil {
				return fmt.Errorf("admin token: %w", err)
			}
		}
	}
	m.App = a
	m.warnProduction(ctx, users)
	if err := m.openMedia(); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newDBCollector(db))
	if m.NATS != nil {
		reg.MustRegister(m.NATS) // shelflive_nats_* and shelflive_realtime_* (docs/DEPLOY.md)
	} else if hs, ok := a.Hub.(interface{ Stats() realtime.Stats }); ok {
		reg.MustRegister(newHubCollector(hs))
	}
	if rec := a.Analytics; rec != nil {
		for _, r := range []struct {
			result string
			get    func(insight.RecorderStats) int64
		}{{"written", func(s insight.RecorderStats) int64 { return s.Written }}, {"dropped", func(s insight.RecorderStats) int64 { return s.Dropped }},
			{"failed", func(s insight.RecorderStats) int64 { return s.Failed }}} {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "shelflive_insight_events_total",
				Help: "Analytics events by what became of them (dropped: the bounded queue was full).", ConstLabels: prometheus.Labels{"result": r.result}},
				func() float64 { return float64(r.get(rec.Stats())) }))
		}
	}
	if rd := a.Comments; rd != nil {
		for _, r := range []struct {
			result string
			get    func() int64
		}{{"read", func() int64 { n, _ := rd.Counts(); return n }}, {"dropped", func() int64 { _, n := rd.Counts(); return n }}} {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "shelflive_insight_comments_total",
				Help: "Comments the insight reader classified (read) or could not queue (dropped); none are read before its word dictionary has loaded.", ConstLabels: prometheus.Labels{"result": r.result}},
				func() float64 { return float64(r.get()) }))
		}
	}
	clusterKey, err := db.ClusterSecret(ctx, "forward")
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	shareKey, err := db.ClusterSecret(ctx, "share")
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	a.Guides, a.Shares = &sqldb.GuideStore{DB: db}, &guides.Signer{Key: shareKey}
	a.WeChatTickets = &sqldb.WeChatTicketStore{DB: db}
	wecomStore := &sqldb.WeComStore{DB: db}
	if key, err := secretKey(c); err == nil && key != "" {
		if box, err := secretbox.New(key); err == nil {
			wecomStore.Box = box // the corp secret sealed at rest, like payment keys
		}
	}
	a.WeCom = &app.WeCom{Store: wecomStore, Client: &wecom.Client{BaseURL: c.WeComBaseURL}, Tokens: &sqldb.WeChatTicketStore{DB: db}}
	if err := m.openChannels(ctx, db, a); err != nil {
		return err
	}
	m.Server = &web.Server{App: a, Logger: m.Logger, DevMode: c.DevMode, CookieSecure: c.CookieSecure, DataDir: c.DataDir, Files: m.Files,
		Ready: m.ready, Registry: reg, NoRateLimits: !c.RateLimits, ClusterKey: clusterKey, TrustedProxies: c.TrustedProxies}
	// EPCIS capture is limited per client (each document may hold 10,000 events).
	epcisStore := sqldb.NewEPCISStore(db)
	m.Server.EPCIS = m.Server.Limited(epcishttp.New(epcisStore, epcishttp.AuthorizerFunc(epcisAuthorizer(a))),
		"epcis-capture", 5, 20, m.Server.ClientIP, func(r *http.Request) bool { return r.Method == http.MethodPost })
	ccStore := &sqldb.ColdChainStore{DB: db}
	m.ColdChain = &coldchain.Service{Store: ccStore, Holder: app.ColdChainHolder{App: a, Releaser: ccStore}, Events: epcisStore,
		Logger: m.Logger, Now: db.Now, RawRetention: c.TelemetryRaw, OnAlarm: app.AlarmPublisher(a)}
	m.Server.ColdChain = &web.ColdChain{Server: m.Server, Service: m.ColdChain, Exports: ccStore}
	a.Assist = &app.Assistant{Trend: &sqldb.AssistStore{DB: db}, LotVerdict: func(ctx context.Context, merchantID, lotID int64) (string, error) {
		rep, err := m.ColdChain.LotReport(ctx, merchantID, lotID)
		if err != nil {
			return "", err
		}
		return rep.Verdict, nil
	}}
	if c.LLMURL != "" {
		a.Assist.Model = &llm.Client{URL: c.LLMURL, Key: c.LLMKey, Model: c.LLMModel}
	}
	if err := m.openSetup(ctx, users); err != nil {
		return err
	}
	if m.Video != nil {
		m.Server.Media = m.Video.Handler()
	}
	if m.hooks != nil {
		m.Server.MediaHooks = m.hooks
	}
	return nil
}

// openSMS picks how login codes reach viewers: a real provider (with each
// shop's own sign name and template where it set them), the dev
// sender (dev mode: code on screen and in the log), or — in production
// without SHELFLIVE_SMS — one that refuses, since a production node must
// never show or log a code.
func (m *Main) openSMS(db *sqldb.DB) (identity.SMS, error) {
	c := m.Config.SMS
	switch {
	case c.Provider == "dev" && m.Config.DevMode:
		return identity.DevSMS{Logger: m.Logger}, nil
	case c.Provider == "dev" || c.Provider == "":
		m.Logger.Warn("SMS is not configured (SHELFLIVE_SMS=aliyun|tencent): viewers cannot get login codes")
		return sms.Off{}, nil
	}
	s, err := sms.New(sms.Config{Provider: c.Provider, KeyID: c.KeyID, KeySecret: c.KeySecret, SignName: c.SignName,
		Template: c.Template, AppID: c.AppID, Region: c.Region, BaseURL: c.BaseURL})
	if err != nil {
		return nil, err
	}
	m.Logger.Info("login codes by SMS", "provider", c.Provider, "sign_name", c.SignName)
	return &sms.PerMerchant{Sender: s, Store: &sqldb.SMSSettingsStore{DB: db}}, nil
}

// openChannels sets up reminders beyond the inbox: Web Push with the
// install's VAPID key (made once from the cluster secret "vapid", so every
// node signs alike) and, with a provider and a reminder template, SMS.
func (m *Main) openChannels(ctx context.Context, db *sqldb.DB, a *app.App) error {
	c := m.Config
	seed, err := db.ClusterSecret(ctx, "vapid")
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	optOut, err := db.ClusterSecret(ctx, "optout")
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	subject := "mailto:webpush@shelflive.dev"
	if strings.HasPrefix(c.PublicURL, "https://") {
		subject = strings.TrimRight(c.PublicURL, "/")
	}
	vapid, err := webpush.NewVAPID(seed, subject)
	if err != nil {
		return fmt.Errorf("vapid: %w", err)
	}
	// Push endpoints come from browsers: outside dev mode only public
	// https addresses (the webhooks' guarded dialer).
	client := webhooks.GuardedClient(c.DevMode, 10*time.Second)
	if tr, ok := client.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = 64 // a few push services take every push
	}
	quiet, err := parseQuiet(c.QuietHours)
	if err != nil {
		return err
	}
	if rs, ok := a.Reminders.(*sqldb.ReminderStore); ok {
		rs.Quiet = &quiet
	}
	if hs, ok := a.Household.(*sqldb.HouseholdStore); ok {
		hs.Quiet = &quiet
	}
	if ss, ok := a.Tracking.Store.(*sqldb.ShipmentStore); ok {
		ss.Quiet = &quiet
	}
	if ts, ok := a.Trials.(*sqldb.TrialStore); ok {
		ts.Quiet = &quiet
	}
	ch := &app.Channels{Store: a.Reminders.(notify.Channels), Push: &webpush.Client{VAPID: vapid, HTTP: client, Now: db.Now}, OptOutKey: optOut, Quiet: quiet}
	// WeChat: template messages through each shop's official account, and
	// subscribe messages through the install's mini-program when it has a
	// reminder template. Access tokens are cached for every node.
	ch.WeChat = &app.WeChatReminders{Tokens: &sqldb.WeChatTicketStore{DB: db}, PublicURL: c.PublicURL, MiniPage: c.MiniProgramRoomPage, MiniState: c.MiniProgramState}
	if a.MiniProgram != nil && a.MiniProgram.Templates[wxmini.TemplateLiveStart] != "" {
		ch.WeChat.Mini = a.MiniProgram
		if rs, ok := a.Reminders.(*sqldb.ReminderStore); ok {
			// reminders spend the viewers' credits of this template
			rs.MiniAppID, rs.MiniTemplate = a.MiniProgram.AppID, a.MiniProgram.Templates[wxmini.TemplateLiveStart]
		}
	}
	switch {
	case (c.SMS.Provider == "aliyun" || c.SMS.Provider == "tencent") && c.SMS.ReminderTemplate != "":
		s, err := sms.New(sms.Config{Provider: c.SMS.Provider, KeyID: c.SMS.KeyID, KeySecret: c.SMS.KeySecret, SignName: c.SMS.SignName,
			Template: c.SMS.ReminderTemplate, AppID: c.SMS.AppID, Region: c.SMS.Region, BaseURL: c.SMS.BaseURL})
		if err != nil {
			return fmt.Errorf("sms reminders: %w", err)
		}
		ch.SMS = func(ctx context.Context, phone, text string) error {
			if r := []rune(text); len(r) > 20 {
				text = string(r[:20])
			}
			return s.SendCode(ctx, phone, text, sms.Settings{})
		}
	case c.SMS.Provider == "dev" && c.DevMode:
		ch.SMS = func(ctx context.Context, phone, text string) error {
			m.Logger.Info("dev SMS reminder", "phone", identity.MaskPhone(phone), "text", text)
			return nil
		}
	}
	a.Channels = ch
	return nil
}

// parseQuiet reads "22-8" (China time hours) or "off".
func parseQuiet(v string) (notify.Quiet, error) {
	if v == "off" || v == "" {
		return notify.Quiet{Off: true}, nil
	}
	var q notify.Quiet
	if _, err := fmt.Sscanf(v, "%d-%d", &q.From, &q.Until); err != nil || q.From < 0 || q.From > 23 || q.Until < 0 || q.Until > 23 {
		return q, fmt.Errorf("quiet hours %q: want FROM-UNTIL hours (e.g. 22-8) or off", v)
	}
	return q, nil
}

// revocationBus carries session revocations between nodes over NATS.
type revocationBus struct{ hub *natshub.Hub }

// RevocationSubject names the control messages of session revocations.
const RevocationSubject = "revoke"

func (b revocationBus) PublishRevocation(ctx context.Context, r identity.Revocation) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.hub.Broadcast(ctx, RevocationSubject, data)
}

// listenRevocations makes this node evict the sessions other nodes (and
// `shelflive merchant disable`) revoke, and publish its own.
func listenRevocations(h *natshub.Hub, id *identity.Service) error {
	id.Bus = revocationBus{hub: h}
	return h.Listen(RevocationSubject, func(data []byte) {
		var r identity.Revocation
		if json.Unmarshal(data, &r) == nil && r.MerchantID > 0 {
			id.Evict(r)
		}
	})
}

// openSetup offers /setup, guarded by a fresh one-time token, while the
// install has no merchant.
func (m *Main) openSetup(ctx context.Context, users *sqldb.IdentityStore) error {
	n, err := users.CountMerchants(ctx)
	if err != nil {
		return fmt.Errorf("count merchants: %w", err)
	}
	if n > 0 {
		return nil
	}
	b := make([]byte, 16)
	rand.Read(b)
	m.SetupToken = hex.EncodeToString(b)
	m.Server.Setup = web.NewSetup(m.SetupToken)
	m.Logger.Warn("no merchant yet: open /setup with the setup token printed at start, or run `shelflive merchant create`")
	return nil
}

// openFiles picks the object store: S3 when SHELFLIVE_S3_URL is set (all
// nodes share uploads and recordings), else the data dir. An unreachable
// bucket does not stop the start; /readyz reports it until it answers.
func (m *Main) openFiles(ctx context.Context) error {
	if m.Config.S3URL == "" {
		m.Files = objstore.NewLocal(m.Config.DataDir)
		return nil
	}
	cfg, err := objstore.ParseS3URL(m.Config.S3URL)
	if err != nil {
		return err
	}
	s3, err := objstore.NewS3(cfg, nil)
	if err != nil {
		return err
	}
	m.Files, m.s3 = s3, s3
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s3.Ping(pctx); err != nil {
		m.Logger.Warn("object store not reachable yet; /readyz fails until it is", "store", s3.String(), "err", err)
	} else {
		m.Logger.Info("object store", "store", s3.String())
	}
	return nil
}

// ready is /readyz: the database answers and, on a cluster, NATS and the
// object store do too (a node that cannot see the other nodes' events or
// files must not get new viewers).
func (m *Main) ready(ctx context.Context) error {
	if err := m.DB.Ping(ctx); err != nil {
		return err
	}
	if m.NATS != nil {
		if err := m.NATS.Ping(ctx); err != nil {
			return err
		}
	}
	if m.s3 != nil {
		return m.s3.Ping(ctx)
	}
	return nil
}

// URL is how this process is reached over loopback (the dev payment
// provider calls back here; tests use it).
func (m *Main) URL() string {
	if m.Listener != nil {
		addr := m.Listener.Addr().(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	}
	return strings.TrimRight(m.Config.PublicURL, "/")
}

// publicURL is how buyers and payment vendors reach ShelfLive: the
// configured public URL, else this process's own address.
func (m *Main) publicURL() string {
	if m.Config.PublicURL != "" {
		return strings.TrimRight(m.Config.PublicURL, "/")
	}
	return m.URL()
}

// nodeID names this node in leases and logs. It is kept in the data dir, so
// a restarted node (after a crash, too) is the same holder and takes its
// lease back at once instead of waiting for it to expire.
func nodeID(dataDir string) string {
	path := filepath.Join(dataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b))
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	id := host + "-" + hex.EncodeToString(b)
	os.WriteFile(path, []byte(id+"\n"), 0o640)
	return id
}

// peerURL is how other nodes reach this one (forwarded flash-sale requests).
func (m *Main) peerURL() string {
	if m.Config.NodeURL != "" {
		return strings.TrimRight(m.Config.NodeURL, "/")
	}
	return m.URL()
}

// paySecret returns the configured secret, or one generated once per data dir.
func paySecret(c *Config) ([]byte, error) {
	if c.PaySecret != "" {
		return []byte(c.PaySecret), nil
	}
	path := filepath.Join(c.DataDir, "pay-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	s := []byte(hex.EncodeToString(b))
	if err := os.WriteFile(path, s, 0o600); err != nil {
		return nil, fmt.Errorf("pay secret: %w", err)
	}
	return s, nil
}

// Start listens and serves in the background.
func (m *Main) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.Listener = ln
	life, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.Server.Lifetime = life
	m.HTTP = &http.Server{Handler: m.Server.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	if m.Video != nil {
		m.videoDone = make(chan struct{})
		go func() {
			defer close(m.videoDone)
			if err := m.Video.ListenAndServe(life); err != nil && life.Err() == nil {
				m.Logger.Error("rtmp ingest", "err", err)
			}
		}()
	}
	// Know who leads before the first request: a flash sale created right
	// after start must start at once on a single node.
	if err := m.startDebug(life); err != nil {
		cancel()
		return err
	}
	m.App.Campaign(ctx)
	go m.App.Identity.KeepWarm(life) // sessions in use stay cached, re-read in bulk
	if err := m.ColdChain.Start(life); err != nil {
		cancel()
		return fmt.Errorf("coldchain: %w", err)
	}
	m.coldStarted = true
	if m.Config.Demo && m.Config.DemoColdChain {
		if dm, err := m.App.Users.MerchantBySlug(ctx, demo.MerchantSlug); err == nil {
			sensors := &demo.Sensors{Ingest: m.ColdChain, Store: &sqldb.ColdChainStore{DB: m.DB}, MerchantID: dm.ID, Lead: m.App.IsLeader,
				Now: m.DB.Now, Every: time.Minute, Logger: m.Logger}
			go sensors.Run(life)
		}
	}
	if m.Config.MQTTAddr != "" {
		b, err := mqttingest.NewBroker(m.Config.MQTTAddr, m.ColdChain, m.Logger)
		if err == nil {
			if err = b.Serve(); err != nil {
				b.Close()
			}
		}
		if err != nil {
			// As with video: sensors cannot connect, but the shop opens; the
			// HTTP telemetry endpoint still works.
			m.Logger.Error("embedded MQTT broker is off: cannot listen; set SHELFLIVE_MQTT_ADDR to a free address", "addr", m.Config.MQTTAddr, "err", err)
		} else {
			m.MQTT = b
			if reg := m.Server.Registry; reg != nil {
				reg.MustRegister(newMQTTCollector(b.Stats))
			}
		}
	}
	if m.Config.MQTTURL != "" {
		host, _ := os.Hostname()
		sub, err := mqttingest.Subscribe(life, mqttingest.SubscriberConfig{URL: m.Config.MQTTURL, ClientID: "shelflive-" + host, Shared: "shelflive", Logger: m.Logger}, m.ColdChain)
		if err != nil {
			cancel()
			return fmt.Errorf("mqtt subscribe: %w", err)
		}
		m.mqttSub = sub
	}
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		m.App.Start(life)
	}()
	if m.App.Analytics != nil {
		go m.App.Analytics.Run(life)
	}
	go m.Webhooks.Run(life) // sends on the leader only
	if m.App.Comments != nil {
		go m.App.Comments.Run(life) // loads the word dictionary in the background first
	}
	go func() {
		if err := m.HTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http serve", "err", err)
		}
	}()
	return nil
}

// Close shuts down gracefully: stop accepting, tell WebSockets to go, drain
// requests, flush background state, close the database.
func (m *Main) Close() error {
	if m.closed { // tests close a node early and again at cleanup
		return nil
	}
	m.closed = true
	if m.cancel != nil {
		m.cancel()
	}
	var err error
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = m.HTTP.Shutdown(ctx)
		cancel()
	}
	if m.done != nil {
		<-m.done
	}
	if m.Video != nil {
		m.Video.Close()
		if m.videoDone != nil {
			<-m.videoDone // recordings end and reach the object store (bounded wait)
		}
	}
	if m.MQTT != nil {
		m.MQTT.Close()
	}
	if m.mqttSub != nil {
		m.mqttSub.Close()
	}
	if m.coldStarted {
		<-m.ColdChain.Stopped() // the last readings are flushed before the database closes
	}
	if m.App != nil && m.App.Analytics != nil && m.HTTP != nil {
		<-m.App.Analytics.Stopped() // the last analytics batch is written before the database closes
	}
	if m.App != nil && m.App.Hub != nil {
		m.App.Hub.Close()
	}
	if m.DB != nil {
		err = errors.Join(err, m.DB.Close())
	}
	m.dirLock.Unlock()
	return err
}
