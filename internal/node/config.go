package node

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/mqttingest"
	"github.com/shelflive/shelflive/internal/objstore"
)

// Config is read from flags, falling back to SHELFLIVE_* environment variables.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	AdminToken  string
	Demo        bool
	// DemoColdChain seeds the demo's cold-chain history with the demo data
	// and runs its simulated sensors; tests that build their own cold chain
	// on the demo turn it off.
	DemoColdChain bool
	DevMode       bool
	PublicURL     string
	ReserveFor    time.Duration
	PaySecret     string
	// SecretKey seals secrets at rest (merchants' payment keys); empty in
	// dev mode: a random key kept in the data dir.
	SecretKey        string
	WeChatPayBaseURL string // replaces WeChat Pay's API host (sandboxes, tests)
	WeComBaseURL     string // replaces qyapi.weixin.qq.com (tests)
	// MiniProgram* is the install's WeChat mini-program (viewer login by
	// wx.login → jscode2session); empty AppID: no mini-program.
	MiniProgramAppID   string
	MiniProgramSecret  string
	MiniProgramBaseURL string // replaces api.weixin.qq.com (sandboxes, tests)
	// MiniProgramTemplates are its subscribe-message template ids,
	// "live_start=<id>,order_ready=<id>" (wxmini.ParseTemplates).
	MiniProgramTemplates string
	// The mini-program page a reminder's subscribe message opens (?slug=…
	// appended) and which build: formal | trial | developer.
	MiniProgramRoomPage string
	MiniProgramState    string
	AlipayBaseURL       string // replaces Alipay's gateway (sandboxes, tests)
	// 快递100 tracking (the install's account): parcels of shipped delivery
	// orders are polled every TrackEvery on the leader; no customer means
	// manual timeline updates only.
	Kuaidi100Customer string
	Kuaidi100Key      string
	Kuaidi100URL      string // replaces poll.kuaidi100.com (tests' fake)
	TrackEvery        time.Duration
	CookieSecure      bool
	LogFormat         string
	RTMPAddr          string
	RateLimits        bool
	DebugAddr         string // Go's profiler (net/http/pprof) on its own loopback listener; empty: off
	FlashNaive        bool
	CouponNaive       bool
	Analytics         bool // record viewer sessions, card events, shares, comment insights (off the hot path)
	NodeURL           string
	Args              []string // what follows the flags (subcommand operands)
	Media             string   // embedded | external | off
	MediaFLV          string
	MediaHLS          string
	MediaReplay       string
	MediaSecret       string
	MediaIngest       string
	NATSURL           string        // empty: in-process room fan-out (one node)
	NATSPrefix        string        // subject prefix and stream name of this deployment
	MQTTAddr          string        // embedded MQTT broker for sensors; empty = off
	MQTTURL           string        // external broker to subscribe to; empty = none
	TelemetryRaw      time.Duration // how long raw readings are kept (5-minute rollups: forever)
	// TrustedProxies are the load balancers whose X-Forwarded-For names the
	// client (per-IP limits, login lockout, logs); empty = trust no header.
	TrustedProxies []netip.Prefix
	S3URL          string // object store for uploads and recordings; empty = the data dir
	// WebhooksAllowPrivate lets merchants' webhook endpoints be http:// and
	// on loopback or private addresses (an ERP on the LAN; tests).
	WebhooksAllowPrivate bool
	// SessionCache is how long a node trusts a session it looked up.
	// Revocations reach every node at once over NATS; this bounds a node
	// that missed one (disconnected from NATS at the time).
	SessionCache time.Duration
	SMS          SMSConfig // login codes: dev (log/screen), aliyun or tencent
	QuietHours   string    // "22-8" or "off": no reminder pushes or texts then
	// LLMURL, LLMKey and LLMModel configure an OpenAI-compatible model for
	// the host assistant's wording; empty URL = the assistant works offline.
	LLMURL, LLMKey, LLMModel string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// ParseConfig reads flags (args) with SHELFLIVE_* environment defaults. It
// is long because it is the list of settings, one flag and its variable a
// line, which -help prints in this order.
func ParseConfig(name string, args []string) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", env("SHELFLIVE_ADDR", ":8080"), "HTTP listen address (SHELFLIVE_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("SHELFLIVE_DATA_DIR", "./data"), "data directory: SQLite file, uploads, recordings (SHELFLIVE_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "database URL; empty = SQLite in the data dir (SHELFLIVE_DATABASE_URL)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "owner-level API token for the demo merchant (SHELFLIVE_ADMIN_TOKEN)")
	fs.BoolVar(&c.Demo, "demo", envBool("SHELFLIVE_DEMO", true), "seed demo data on first start (SHELFLIVE_DEMO)")
	fs.BoolVar(&c.DemoColdChain, "demo-coldchain", envBool("SHELFLIVE_DEMO_COLDCHAIN", true), "with the demo data, seed its cold-chain history (sensors, readings, EPCIS events) and keep its sensors reporting (SHELFLIVE_DEMO_COLDCHAIN)")
	fs.BoolVar(&c.DevMode, "dev", envBool("SHELFLIVE_DEV", true), "development mode: OTP codes shown on screen, dev payment provider (SHELFLIVE_DEV)")
	fs.StringVar(&c.PublicURL, "public-url", env("SHELFLIVE_PUBLIC_URL", ""), "public base URL used in links and callbacks (SHELFLIVE_PUBLIC_URL)")
	fs.DurationVar(&c.ReserveFor, "reserve-for", envDuration("SHELFLIVE_RESERVE_FOR", 15*time.Minute), "how long unpaid orders hold stock (SHELFLIVE_RESERVE_FOR)")
	fs.StringVar(&c.PaySecret, "pay-secret", "", "HMAC secret of the dev payment provider; random per data dir when empty (SHELFLIVE_PAY_SECRET)")
	fs.StringVar(&c.SecretKey, "secret-key", "", "at least 32 characters that seal merchants' payment keys at rest (e.g. openssl rand -hex 32); the same on every node; random per data dir in dev mode when empty (SHELFLIVE_SECRET_KEY)")
	fs.StringVar(&c.WeComBaseURL, "wecom-base-url", env("SHELFLIVE_WECOM_BASE_URL", ""), "WeCom (企业微信) API base URL; empty = https://qyapi.weixin.qq.com (SHELFLIVE_WECOM_BASE_URL)")
	fs.StringVar(&c.WeChatPayBaseURL, "wechatpay-base-url", env("SHELFLIVE_WECHATPAY_BASE_URL", ""), "WeChat Pay API base URL; empty = https://api.mch.weixin.qq.com (SHELFLIVE_WECHATPAY_BASE_URL)")
	fs.StringVar(&c.MiniProgramAppID, "wechat-miniprogram-appid", env("SHELFLIVE_WECHAT_MINIPROGRAM_APPID", ""), "the WeChat mini-program's AppID for viewer login; empty = no mini-program (SHELFLIVE_WECHAT_MINIPROGRAM_APPID)")
	fs.StringVar(&c.MiniProgramSecret, "wechat-miniprogram-secret", "", "the WeChat mini-program's AppSecret (SHELFLIVE_WECHAT_MINIPROGRAM_SECRET)")
	fs.StringVar(&c.MiniProgramBaseURL, "wechat-miniprogram-base-url", env("SHELFLIVE_WECHAT_MINIPROGRAM_BASE_URL", ""), "WeChat API base URL for the mini-program login; empty = https://api.weixin.qq.com (SHELFLIVE_WECHAT_MINIPROGRAM_BASE_URL)")
	fs.StringVar(&c.Kuaidi100Customer, "kuaidi100-customer", env("SHELFLIVE_KUAIDI100_CUSTOMER", ""), "快递100 company number (customer) for parcel tracking; empty = manual tracking updates only (SHELFLIVE_KUAIDI100_CUSTOMER)")
	fs.StringVar(&c.Kuaidi100Key, "kuaidi100-key", "", "快递100 authorization key (SHELFLIVE_KUAIDI100_KEY)")
	fs.StringVar(&c.Kuaidi100URL, "kuaidi100-url", env("SHELFLIVE_KUAIDI100_URL", ""), "快递100 real-time query URL; empty = https://poll.kuaidi100.com/poll/query.do (SHELFLIVE_KUAIDI100_URL)")
	fs.DurationVar(&c.TrackEvery, "track-every", envDuration("SHELFLIVE_TRACK_EVERY", 30*time.Minute), "how often the leader asks the tracking provider about an open parcel (SHELFLIVE_TRACK_EVERY)")
	fs.StringVar(&c.MiniProgramRoomPage, "wechat-miniprogram-room-page", env("SHELFLIVE_WECHAT_MINIPROGRAM_ROOM_PAGE", "pages/room/room"), "the mini-program page a live reminder opens; ?slug=<room> is appended (SHELFLIVE_WECHAT_MINIPROGRAM_ROOM_PAGE)")
	fs.StringVar(&c.MiniProgramState, "wechat-miniprogram-state", env("SHELFLIVE_WECHAT_MINIPROGRAM_STATE", "formal"), "which mini-program build a reminder opens: formal, trial or developer (SHELFLIVE_WECHAT_MINIPROGRAM_STATE)")
	fs.StringVar(&c.MiniProgramTemplates, "wechat-miniprogram-templates", env("SHELFLIVE_WECHAT_MINIPROGRAM_TEMPLATES", ""), "the mini-program's subscribe-message template ids the viewer is asked to allow: live_start=<id>,order_ready=<id> (SHELFLIVE_WECHAT_MINIPROGRAM_TEMPLATES)")
	fs.StringVar(&c.AlipayBaseURL, "alipay-base-url", env("SHELFLIVE_ALIPAY_BASE_URL", ""), "Alipay gateway URL; empty = https://openapi.alipay.com/gateway.do (SHELFLIVE_ALIPAY_BASE_URL)")
	fs.BoolVar(&c.CookieSecure, "cookie-secure", envBool("SHELFLIVE_COOKIE_SECURE", false), "mark cookies Secure even behind plain HTTP (SHELFLIVE_COOKIE_SECURE)")
	fs.StringVar(&c.LogFormat, "log-format", env("SHELFLIVE_LOG_FORMAT", "text"), "log format: text or json (SHELFLIVE_LOG_FORMAT)")
	fs.StringVar(&c.RTMPAddr, "rtmp-addr", env("SHELFLIVE_RTMP_ADDR", ":1935"), "RTMP ingest listen address; empty disables (SHELFLIVE_RTMP_ADDR)")
	fs.StringVar(&c.Media, "media", env("SHELFLIVE_MEDIA", "embedded"), "video: embedded (RTMP ingest + HTTP-FLV/HLS), external (SRS/CDN via hooks) or off (SHELFLIVE_MEDIA)")
	fs.StringVar(&c.MediaFLV, "media-flv-url", env("SHELFLIVE_MEDIA_FLV_URL", ""), "external mode: HTTP-FLV URL template with {slug} (SHELFLIVE_MEDIA_FLV_URL)")
	fs.StringVar(&c.MediaHLS, "media-hls-url", env("SHELFLIVE_MEDIA_HLS_URL", ""), "external mode: HLS URL template with {slug} (SHELFLIVE_MEDIA_HLS_URL)")
	fs.StringVar(&c.MediaReplay, "media-replay-url", env("SHELFLIVE_MEDIA_REPLAY_URL", ""), "external mode: replay URL template with {slug} (SHELFLIVE_MEDIA_REPLAY_URL)")
	fs.StringVar(&c.MediaSecret, "media-hook-secret", "", "external mode: secret the media server sends with its hooks (SHELFLIVE_MEDIA_HOOK_SECRET)")
	fs.StringVar(&c.MediaIngest, "media-ingest-url", env("SHELFLIVE_MEDIA_INGEST_URL", ""), "external mode: the RTMP URL hosts publish to (SHELFLIVE_MEDIA_INGEST_URL)")
	fs.StringVar(&c.NodeURL, "node-url", env("SHELFLIVE_NODE_URL", ""), "URL other nodes use to reach this one; default the listen address (SHELFLIVE_NODE_URL)")
	fs.StringVar(&c.NATSURL, "nats-url", "", "NATS URL for room fan-out between nodes (JetStream required); empty = in-process, one node (SHELFLIVE_NATS_URL)")
	fs.StringVar(&c.NATSPrefix, "nats-prefix", env("SHELFLIVE_NATS_PREFIX", "shelflive"), "NATS subject prefix and stream name of this deployment; nodes of one cluster share it (SHELFLIVE_NATS_PREFIX)")
	fs.BoolVar(&c.FlashNaive, "flash-naive", false, "benchmark baseline only: flash sales take units with one hot-row UPDATE per attempt")
	fs.BoolVar(&c.CouponNaive, "coupon-naive", false, "benchmark baseline only: coupon grabs take one hot-row UPDATE … WHERE issued < units per grab")
	fs.StringVar(&c.MQTTAddr, "mqtt-addr", env("SHELFLIVE_MQTT_ADDR", mqttingest.DefaultAddr), "embedded MQTT broker for cold-chain sensors; empty disables; 1883 is left to a system broker (SHELFLIVE_MQTT_ADDR)")
	fs.StringVar(&c.MQTTURL, "mqtt-url", "", "external MQTT broker to subscribe to telemetry on, e.g. tcp://user:pass@127.0.0.1:1883 (SHELFLIVE_MQTT_URL)")
	fs.DurationVar(&c.TelemetryRaw, "telemetry-raw", envDuration("SHELFLIVE_TELEMETRY_RAW", 30*24*time.Hour), "how long raw sensor readings are kept; 5-minute rollups are kept forever (SHELFLIVE_TELEMETRY_RAW)")
	fs.BoolVar(&c.Analytics, "analytics", envBool("SHELFLIVE_ANALYTICS", true), "record viewer sessions, card events, shares and comment insights for the dashboard (SHELFLIVE_ANALYTICS)")
	fs.BoolVar(&c.RateLimits, "rate-limits", envBool("SHELFLIVE_RATE_LIMITS", true), "per-IP/per-user rate limits; turn off only for loopback load tests (SHELFLIVE_RATE_LIMITS)")
	fs.StringVar(&c.S3URL, "s3-url", "", "S3-compatible object store shared by all nodes for uploads and recordings, e.g. s3://ACCESS:SECRET@minio:9000/shelflive?tls=false&path_style=true; empty = the data dir (SHELFLIVE_S3_URL)")
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", envBool("SHELFLIVE_WEBHOOKS_ALLOW_PRIVATE", false), "let webhook endpoints use http:// and loopback/private addresses, e.g. an ERP on the shop's LAN (SHELFLIVE_WEBHOOKS_ALLOW_PRIVATE)")
	fs.DurationVar(&c.SessionCache, "session-cache", envDuration("SHELFLIVE_SESSION_CACHE", 5*time.Second), "how long a node trusts a session it looked up; revocations reach all nodes at once over NATS, this bounds a node that missed one (SHELFLIVE_SESSION_CACHE)")
	fs.StringVar(&c.SMS.Provider, "sms", env("SHELFLIVE_SMS", "dev"), "login codes by SMS: aliyun, tencent, or dev (shown on screen and logged in dev mode; refused in production) (SHELFLIVE_SMS)")
	fs.StringVar(&c.SMS.KeyID, "sms-key-id", env("SHELFLIVE_SMS_KEY_ID", ""), "Aliyun AccessKey ID or Tencent SecretId (SHELFLIVE_SMS_KEY_ID)")
	fs.StringVar(&c.SMS.KeySecret, "sms-key-secret", "", "Aliyun AccessKey Secret or Tencent SecretKey (SHELFLIVE_SMS_KEY_SECRET)")
	fs.StringVar(&c.SMS.SignName, "sms-sign-name", env("SHELFLIVE_SMS_SIGN_NAME", ""), "approved SMS signature (签名), e.g. 鲜食集 (SHELFLIVE_SMS_SIGN_NAME)")
	fs.StringVar(&c.SMS.Template, "sms-template", env("SHELFLIVE_SMS_TEMPLATE", ""), "approved template with the code as its one variable: Aliyun SMS_… (${code}), Tencent template id ({1}) (SHELFLIVE_SMS_TEMPLATE)")
	fs.StringVar(&c.SMS.AppID, "sms-app-id", env("SHELFLIVE_SMS_APP_ID", ""), "Tencent SmsSdkAppId (SHELFLIVE_SMS_APP_ID)")
	fs.StringVar(&c.SMS.Region, "sms-region", env("SHELFLIVE_SMS_REGION", ""), "provider region; default cn-hangzhou (Aliyun), ap-guangzhou (Tencent) (SHELFLIVE_SMS_REGION)")
	fs.StringVar(&c.QuietHours, "quiet-hours", env("SHELFLIVE_QUIET_HOURS", "22-8"), "hours (China time) with no reminder pushes or texts, FROM-UNTIL, or off; the inbox gets them at once (SHELFLIVE_QUIET_HOURS)")
	fs.StringVar(&c.SMS.ReminderTemplate, "sms-reminder-template", env("SHELFLIVE_SMS_REMINDER_TEMPLATE", ""), "approved template for live reminders, its one variable the live's title (${code} on Aliyun, {1} on Tencent); empty = no SMS reminders (SHELFLIVE_SMS_REMINDER_TEMPLATE)")
	fs.StringVar(&c.SMS.BaseURL, "sms-base-url", env("SHELFLIVE_SMS_BASE_URL", ""), "replaces the provider's endpoint (sandbox, tests) (SHELFLIVE_SMS_BASE_URL)")
	fs.StringVar(&c.LLMURL, "llm-url", env("SHELFLIVE_LLM_URL", ""), "OpenAI-compatible chat-completions base URL for the host assistant, e.g. https://api.deepseek.com/v1; empty = offline answers (SHELFLIVE_LLM_URL)")
	fs.StringVar(&c.LLMModel, "llm-model", env("SHELFLIVE_LLM_MODEL", ""), "model name sent to the LLM endpoint (SHELFLIVE_LLM_MODEL)")
	fs.StringVar(&c.LLMKey, "llm-key", "", "API key of the LLM endpoint (SHELFLIVE_LLM_KEY)")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("SHELFLIVE_DEBUG_ADDR", ""), "loopback address for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; empty = off (SHELFLIVE_DEBUG_ADDR)")
	proxies := fs.String("trusted-proxies", env("SHELFLIVE_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For names the client, e.g. 10.0.0.0/8,127.0.0.1 (SHELFLIVE_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// Secrets, and URLs that may carry credentials, come from the
	// environment after parsing: as flag defaults, -help and every mistyped
	// flag would print them. A flag given on the command line still wins.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, v := range map[string]*string{
		"database-url":      &c.DatabaseURL,
		"admin-token":       &c.AdminToken,
		"pay-secret":        &c.PaySecret,
		"secret-key":        &c.SecretKey,
		"media-hook-secret": &c.MediaSecret,
		"nats-url":          &c.NATSURL,
		"mqtt-url":          &c.MQTTURL,
		"s3-url":            &c.S3URL,
		"sms-key-secret":    &c.SMS.KeySecret,
		"llm-key":           &c.LLMKey,
		"kuaidi100-key":     &c.Kuaidi100Key,
	} {
		if !given[name] {
			*v = os.Getenv(secretEnv[name])
		}
	}
	var err error
	if c.TrustedProxies, err = ParsePrefixes(*proxies); err != nil {
		return nil, err
	}
	if c.LLMURL != "" && c.LLMModel == "" {
		return nil, fmt.Errorf("SHELFLIVE_LLM_URL needs SHELFLIVE_LLM_MODEL (the model name the endpoint serves)")
	}
	if c.Media == "external" && !c.DevMode && c.MediaSecret == "" {
		// Without it anyone who can reach the node could end a live or
		// register recordings by calling the hooks.
		return nil, fmt.Errorf("SHELFLIVE_MEDIA=external needs SHELFLIVE_MEDIA_HOOK_SECRET (the media server sends it with every hook) outside dev mode")
	}
	if c.DebugAddr != "" && !loopbackAddr(c.DebugAddr) {
		// The profiler shows memory and command lines: never on a
		// reachable address.
		return nil, fmt.Errorf("SHELFLIVE_DEBUG_ADDR %q: the profiler listens on loopback only (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)", c.DebugAddr)
	}
	if c.S3URL != "" {
		// A typo must stop the start, not surface as broken images later.
		if _, err := objstore.ParseS3URL(c.S3URL); err != nil {
			return nil, err
		}
	}
	c.Args = fs.Args()
	return c, nil
}

// SMSConfig is the install's SMS account (SHELFLIVE_SMS_*).
type SMSConfig struct {
	Provider, KeyID, KeySecret, SignName, Template, AppID, Region, BaseURL string
	// ReminderTemplate is an approved template whose one variable is the
	// live's title: texts for viewers who opted in to SMS reminders.
	ReminderTemplate string
}

// ParsePrefixes reads a comma-separated list of IP addresses and CIDRs.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q is neither an IP address nor a CIDR", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// secretEnv names the environment variable of each flag that may hold a
// secret (see ParseConfig).
var secretEnv = map[string]string{
	"database-url":              "SHELFLIVE_DATABASE_URL",
	"admin-token":               "SHELFLIVE_ADMIN_TOKEN",
	"pay-secret":                "SHELFLIVE_PAY_SECRET",
	"secret-key":                "SHELFLIVE_SECRET_KEY",
	"media-hook-secret":         "SHELFLIVE_MEDIA_HOOK_SECRET",
	"nats-url":                  "SHELFLIVE_NATS_URL",
	"mqtt-url":                  "SHELFLIVE_MQTT_URL",
	"s3-url":                    "SHELFLIVE_S3_URL",
	"sms-key-secret":            "SHELFLIVE_SMS_KEY_SECRET",
	"wechat-miniprogram-secret": "SHELFLIVE_WECHAT_MINIPROGRAM_SECRET",
	"llm-key":                   "SHELFLIVE_LLM_KEY",
	"kuaidi100-key":             "SHELFLIVE_KUAIDI100_KEY",
}
