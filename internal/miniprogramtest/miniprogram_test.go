package miniprogramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/apiclient"
	"github.com/shelflive/shelflive/internal/payment/wechatpay"
	"github.com/shelflive/shelflive/internal/payment/wechatpay/wechatpaytest"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
)

const (
	miniAppID  = "wx00000000000000mp"
	miniSecret = "mini-secret"
	mchid      = "1900000109"
)

// jscode2session is WeChat's code exchange for the mini-program's wx.login:
// it checks appid and secret, takes each code once, and names one openid
// for every code "mpcode-<openid>-<n>" (the same WeChat user each time).
type jscode2session struct {
	mu   sync.Mutex
	used map[string]bool
}

func (f *jscode2session) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	parts := strings.SplitN(q.Get("js_code"), "-", 3)
	switch {
	case r.URL.Path != "/sns/jscode2session" || q.Get("appid") != miniAppID || q.Get("secret") != miniSecret || q.Get("grant_type") != "authorization_code":
		json.NewEncoder(w).Encode(map[string]any{"errcode": 40013, "errmsg": "invalid appid or secret"})
	case len(parts) != 3 || parts[0] != "mpcode":
		json.NewEncoder(w).Encode(map[string]any{"errcode": 40029, "errmsg": "invalid code"})
	case f.used[q.Get("js_code")]:
		json.NewEncoder(w).Encode(map[string]any{"errcode": 40163, "errmsg": "code been used"})
	default:
		f.used[q.Get("js_code")] = true
		json.NewEncoder(w).Encode(map[string]any{"openid": parts[1], "session_key": "c2Vzc2lvbmtleQ=="})
	}
}

// TestMiniProgram runs `npm ci && npm test` in miniprogram/ with a node
// that has a mini-program, a shop with WeChat Pay (the local fake, the
// mini-program's appid bound to its 商户号) and subscribe-message
// templates. The node tests drive the pages through a fake wx whose
// requests and sockets reach this node; wx.requestPayment's parameters come
// back here (POST /pay) to be checked against the merchant's key and the
// fake's prepay id before the fake pays the order and calls back.
//
// Without node and npm it skips on a developer's machine and fails on CI
// (CI=true): .ci/run installs them.
func TestMiniProgram(t *testing.T) {
	npm, errNPM := exec.LookPath("npm")
	_, errNode := exec.LookPath("node")
	if errNPM != nil || errNode != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node and npm are required to test the mini-program (apt-get install -y nodejs npm)")
		}
		t.Skip("node/npm not installed: the mini-program's tests need them")
	}
	dir, err := filepath.Abs("../../miniprogram")
	if err != nil {
		t.Fatal(err)
	}

	jscode := httptest.NewServer(&jscode2session{used: map[string]bool{}})
	defer jscode.Close()
	pay, err := wechatpaytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer pay.Close()
	m := testkit.StartNode(t, "", "-wechatpay-base-url", pay.URL, "-secret-key", "test-secret-key-0123456789abcdef0123456789",
		"-wechat-miniprogram-appid", miniAppID, "-wechat-miniprogram-secret", miniSecret, "-wechat-miniprogram-base-url", jscode.URL,
		"-wechat-miniprogram-templates", "live_start=TMPL-live-start,order_ready=TMPL-order-ready")
	ctx := context.Background()
	owner := &apiclient.Client{Base: m.URL(), Token: testkit.OwnerToken}
	acct, fields, err := pay.NewMerchant(mchid)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := owner.Call(ctx, "PUT", "/api/v1/payments/wechatpay", fields, nil); err != nil || st != 200 {
		t.Fatalf("WeChat Pay settings: %d %v", st, err)
	}
	pay.BindAppID(mchid, miniAppID)
	if st, err := owner.Call(ctx, "POST", "/api/v1/rooms/demo/status", map[string]string{"status": "live"}, nil); err != nil || st/100 != 2 {
		t.Fatalf("go live: %d %v", st, err)
	}

	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := payFromMiniProgram(m.DB, pay, acct, r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer control.Close()

	preview := t.TempDir() // the node tests write each page's HTML here
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SHELFLIVE_MP_SERVER="+m.URL(), "SHELFLIVE_MP_CONTROL="+control.URL,
			"SHELFLIVE_MP_OWNER_TOKEN="+testkit.OwnerToken, "SHELFLIVE_MP_ROOM=demo", "SHELFLIVE_MP_APPID="+miniAppID,
			"SHELFLIVE_MP_PREVIEW_DIR="+preview)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("npm %s:\n%s", strings.Join(args, " "), out.String())
		if err != nil {
			t.Fatalf("npm %s: %v", strings.Join(args, " "), err)
		}
	}
	run("ci", "--no-audit", "--no-fund", "--prefer-offline")
	run("test")

	// What the pages rendered, in chromium on a phone-wide page (750 px =
	// 750 rpx): screenshots to look at, and a page wider than the phone fails.
	t.Run("Screenshots", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(preview, "*.html"))
		if len(files) < 4 {
			t.Fatalf("the node tests wrote %d page previews, want room, room-live, checkout, order", len(files))
		}
		ctx := testkit.NewContext(t, testkit.Browser(t), 2*time.Minute)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".html")
			testkit.Run(t, ctx, name, chromedp.EmulateViewport(750, 1334), chromedp.Navigate("file://"+f))
			width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if width > 750 {
				t.Errorf("%s is %d px wide on a 750 px phone", name, width)
			}
			testkit.Screenshot(t, ctx, "miniprogram-"+name)
		}
	})
}

// payFromMiniProgram plays WeChat after wx.requestPayment: the parameters
// the mini-program passed must be ShelfLive's, signed by the merchant's key
// over the mini-program's appid, for the prepay id WeChat Pay made for the
// order; then WeChat Pay marks the order paid and calls back.
func payFromMiniProgram(db *sqldb.DB, pay *wechatpaytest.Fake, acct *wechatpaytest.Merchant, r *http.Request) error {
	var in struct {
		OrderID   int64  `json:"order_id"`
		TimeStamp string `json:"timeStamp"`
		NonceStr  string `json:"nonceStr"`
		Package   string `json:"package"`
		SignType  string `json:"signType"`
		PaySign   string `json:"paySign"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return err
	}
	if in.SignType != "RSA" {
		return fmt.Errorf("signType %q", in.SignType)
	}
	if err := wechatpay.VerifyMessage(acct.Pub, in.PaySign, miniAppID, in.TimeStamp, in.NonceStr, in.Package); err != nil {
		return fmt.Errorf("paySign does not verify over the mini-program's appid: %w", err)
	}
	var intent string
	if err := db.QueryRow(r.Context(), `SELECT intent FROM payments WHERE order_id = ? AND provider = 'wechatpay' AND method = 'miniprogram'`, in.OrderID).Scan(&intent); err != nil {
		return fmt.Errorf("the order's payment intent: %w", err)
	}
	o, ok := pay.Order(mchid, intent)
	if !ok || "prepay_id="+o.PrepayID != in.Package || o.AppID != miniAppID || o.OpenID == "" {
		return fmt.Errorf("WeChat Pay's order %+v does not match package %s", o, in.Package)
	}
	if st, err := pay.Pay(mchid, intent); err != nil || st != 200 {
		return fmt.Errorf("the callback: %d %v", st, err)
	}
	return nil
}
