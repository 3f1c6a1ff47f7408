package node

// The wiring of the domains: each domain's store from sqldb and the
// services around it, put into app.App (the use cases) and the web server.
// Open calls these in order.

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/delivery/kuaidi100"
	"github.com/shelflive/shelflive/internal/demo"
	"github.com/shelflive/shelflive/internal/epcishttp"
	"github.com/shelflive/shelflive/internal/guides"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/llm"
	"github.com/shelflive/shelflive/internal/moderation"
	"github.com/shelflive/shelflive/internal/payment"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/sms"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/web"
	"github.com/shelflive/shelflive/internal/webhooks"
	"github.com/shelflive/shelflive/internal/wecom"
	"github.com/shelflive/shelflive/internal/wxmini"
)

// demoDeps names the stores the demo seed writes through; the app reuses them.
func (m *Main) demoDeps(db *sqldb.DB, users *sqldb.IdentityStore) demo.Deps {
	c := m.Config
	deps := demo.Deps{Users: users, Catalog: &sqldb.CatalogStore{DB: db}, Stores: &sqldb.StoreRepo{DB: db},
		Inventory: &sqldb.InventoryStore{DB: db}, Live: &sqldb.LiveStore{DB: db}, DataDir: c.DataDir, Images: m.Files, Now: db.Now()}
	if c.Demo && c.DemoColdChain {
		deps.ColdChain, deps.Events = &sqldb.ColdChainStore{DB: db}, sqldb.NewEPCISStore(db)
	}
	return deps
}

// seedDemo writes the demo merchant once (SHELFLIVE_DEMO).
func (m *Main) seedDemo(ctx context.Context, deps demo.Deps) error {
	if !m.Config.Demo {
		return nil
	}
	seeded, err := demo.Seed(ctx, deps)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	if seeded {
		m.Logger.Info("demo data created", "merchant", demo.MerchantSlug)
	}
	return nil
}

// newApp builds the use cases: identity and the core stores, then every
// other domain's store (wireStores), webhooks, the room hub, payments, SMS.
func (m *Main) newApp(ctx context.Context, db *sqldb.DB, users *sqldb.IdentityStore, deps demo.Deps) (*app.App, error) {
	c := m.Config
	secret, err := paySecret(c)
	if err != nil {
		return nil, err
	}
	smsSender, err := m.openSMS(db)
	if err != nil {
		return nil, err
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
		return nil, fmt.Errorf("wechat mini-program: %w", err)
	}
	if a.MiniProgram != nil {
		if a.MiniProgram.Templates, err = wxmini.ParseTemplates(c.MiniProgramTemplates); err != nil {
			return nil, fmt.Errorf("wechat mini-program: %w", err)
		}
	}
	m.wireStores(a, db, nodeName)
	m.openWebhooks(a, db)
	if err := m.openHub(ctx, a); err != nil {
		return nil, err
	}
	a.Provider = &payment.Dev{Secret: secret, Client: &http.Client{Timeout: 10 * time.Second},
		CallbackURL: func() string { return m.URL() + "/api/v1/payments/dev/callback" }}
	accounts, err := m.openPayments(db)
	if err != nil {
		return nil, err
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
				return nil, fmt.Errorf("admin token: %w", err)
			}
		}
	}
	return a, nil
}

// wireStores gives the app every other domain's store.
func (m *Main) wireStores(a *app.App, db *sqldb.DB, nodeName string) {
	c := m.Config
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
}

// openWebhooks wires the merchants' webhooks and their dispatcher.
func (m *Main) openWebhooks(a *app.App, db *sqldb.DB) {
	c := m.Config
	whStore := &sqldb.WebhookStore{DB: db}
	whStore.Box = sealBox(c) // signing secrets sealed at rest, like payment keys
	a.Webhooks = whStore
	a.WebhooksAllowPrivate = c.WebhooksAllowPrivate
	m.Webhooks = &webhooks.Dispatcher{Store: a.Webhooks, Client: webhooks.GuardedClient(c.WebhooksAllowPrivate, 10*time.Second),
		Logger: m.Logger, Now: db.Now, IsLeader: a.IsLeader, Disabled: a.WebhookDisabled}
	a.WebhookKick = m.Webhooks.Kick
}

// sealBox is the box under SHELFLIVE_SECRET_KEY that seals secrets at rest,
// or nil without a usable key (the secrets are then kept as they are).
func sealBox(c *Config) *secretbox.Box {
	key, err := secretKey(c)
	if err != nil || key == "" {
		return nil
	}
	box, err := secretbox.New(key)
	if err != nil {
		return nil
	}
	return box
}

// openShares reads the cluster secrets every node signs with and wires
// what uses them: guides' share codes, WeCom, WeChat tickets and the
// reminder channels. It returns the key that signs forwarded requests.
func (m *Main) openShares(ctx context.Context, db *sqldb.DB, a *app.App) ([]byte, error) {
	c := m.Config
	clusterKey, err := db.ClusterSecret(ctx, "forward")
	if err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	shareKey, err := db.ClusterSecret(ctx, "share")
	if err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	a.Guides, a.Shares = &sqldb.GuideStore{DB: db}, &guides.Signer{Key: shareKey}
	a.WeChatTickets = &sqldb.WeChatTicketStore{DB: db}
	wecomStore := &sqldb.WeComStore{DB: db}
	wecomStore.Box = sealBox(c) // the corp secret sealed at rest, like payment keys
	a.WeCom = &app.WeCom{Store: wecomStore, Client: &wecom.Client{BaseURL: c.WeComBaseURL}, Tokens: &sqldb.WeChatTicketStore{DB: db}}
	if err := m.openChannels(ctx, db, a); err != nil {
		return nil, err
	}
	return clusterKey, nil
}

// openWeb wires the HTTP server with the adapters it serves: EPCIS, the
// cold chain and the host assistant.
func (m *Main) openWeb(db *sqldb.DB, a *app.App, reg *prometheus.Registry, clusterKey []byte) {
	c := m.Config
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
}
