package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/shelflive/shelflive/internal/apiclient"
	"golang.org/x/sync/errgroup"
)

// ReplayOptions shape the scripted live of ReplayAB.
type ReplayOptions struct {
	Viewers  int    // viewers who watch both cards (default 160)
	Password string // the demo owner's password (default Password)
	Slug     string // room to create (default tea-ab-<time>)
	// Linger keeps the viewers watching this long after the last order,
	// before the live ends.
	Linger time.Duration
}

// ReplayResult is the A/B verdict the API gave at the end of the replay.
type ReplayResult struct {
	Room      string          `json:"room"`
	A, B      int64           `json:"-"`
	Viewers   int             `json:"viewers"`
	Comments  int             `json:"comments"`
	Orders    int             `json:"orders"`
	Verdict   json.RawMessage `json:"verdict"`
	TookMilli int64           `json:"took_ms"`
}

// The script: while the osmanthus tea (A) is pinned, then the white-peach
// tea (B), viewers see each card; these ask and buy. B is asked about and
// bought more often, as in the seed's story of two new flavours.
var (
	askA = []string{"桂花的甜吗", "A款多少钱", "桂花味重吗", "黄色那杯还有吗", "桂花乌龙有咖啡因吗", "桂花的六瓶装有优惠吗"}
	askB = []string{"白桃的多少钱", "B款甜不甜", "粉色那杯还有货吗", "白桃的含糖吗", "白桃乌龙能自提吗", "白桃的会不会很腻"}
	talk = []string{"主播好", "来了来了", "哈哈哈", "新茶好看", "打卡"}
)

// ReplayAB plays a scripted live of the demo merchant's two tea flavours
// against a running ShelfLive at base, through its public API only: the
// owner creates a room with both teas and goes live, viewers open the page,
// log in with a phone code (dev mode), see each pinned card, comment, open
// cards, check out, order and pay on the dev provider. It ends the live and
// returns the API's A/B verdict. The server must run in dev mode with the
// demo data and without rate limits (SHELFLIVE_RATE_LIMITS=false).
func ReplayAB(ctx context.Context, base string, opts ReplayOptions, log io.Writer) (*ReplayResult, error) {
	start := time.Now()
	if opts.Viewers <= 0 {
		opts.Viewers = 160
	}
	if opts.Password == "" {
		opts.Password = Password
	}
	if opts.Slug == "" {
		opts.Slug = "tea-ab-" + strconv.FormatInt(time.Now().Unix()%1000000, 10)
	}
	r := &replay{c: &replayClient{api: &apiclient.Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 60 * time.Second}}}, opts: opts}
	t, err := r.goLive(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "room /live/%s is live with 桂花乌龙 (A, product %d) and 白桃乌龙 (B, product %d); %d viewers\n", opts.Slug, t.a, t.b, opts.Viewers)
	storeA, err := r.storeOf(ctx, t.skuA)
	if err != nil {
		return nil, err
	}
	storeB, err := r.storeOf(ctx, t.skuB)
	if err != nil {
		return nil, err
	}
	r.res = &ReplayResult{Room: opts.Slug, A: t.a, B: t.b, Viewers: opts.Viewers}
	if err := r.join(ctx); err != nil {
		return nil, fmt.Errorf("viewers: %w", err)
	}
	// Who does what: deterministic, B about twice as popular as A.
	if err := r.phase(ctx, t.a, t.skuA, storeA, askA, 9, 16, 0); err != nil {
		return nil, fmt.Errorf("phase A: %w", err)
	}
	fmt.Fprintln(log, "A (桂花乌龙) pinned, seen, asked about and bought")
	if err := r.phase(ctx, t.b, t.skuB, storeB, askB, 4, 6, 2); err != nil {
		return nil, fmt.Errorf("phase B: %w", err)
	}
	fmt.Fprintln(log, "B (白桃乌龙) pinned, seen, asked about and bought")
	if opts.Linger > 0 {
		time.Sleep(opts.Linger) // viewers keep watching (a browser test looks at the dashboard now)
	}
	for _, v := range r.viewers {
		v.ws.Close(websocket.StatusNormalClosure, "")
	}
	if err := r.c.do(ctx, "POST", "/api/v1/rooms/"+opts.Slug+"/status", r.owner, nil, map[string]string{"status": "ended"}, nil); err != nil {
		return nil, fmt.Errorf("end: %w", err)
	}
	verdict, err := r.verdict(ctx, t.a, t.b)
	if err != nil {
		return nil, err
	}
	r.res.Verdict, r.res.TookMilli = verdict, time.Since(start).Milliseconds()
	return r.res, nil
}

// replay is one run of ReplayAB: the owner's token, the room, its viewers
// and what they did.
type replay struct {
	c       *replayClient
	opts    ReplayOptions
	owner   string
	roomID  int64
	viewers []*replayViewer
	res     *ReplayResult
	mu      sync.Mutex
}

// teas are the two flavours of the A/B: products and their SKUs.
type teas struct{ a, b, skuA, skuB int64 }

// goLive logs the owner in, finds the two teas, creates the room with both
// and starts the live.
func (r *replay) goLive(ctx context.Context) (teas, error) {
	c, opts := r.c, r.opts
	var t teas
	var login struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, "POST", "/api/v1/auth/login", "", nil, map[string]string{"login": "owner", "password": opts.Password}, &login); err != nil {
		return t, fmt.Errorf("owner login: %w", err)
	}
	r.owner = login.Token
	var prods struct {
		Products []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			SKUs []struct {
				ID int64 `json:"id"`
			} `json:"skus"`
		} `json:"products"`
	}
	if err := c.do(ctx, "GET", "/api/v1/products", r.owner, nil, nil, &prods); err != nil {
		return t, err
	}
	for _, p := range prods.Products {
		switch p.Name {
		case "桂花乌龙冷泡茶":
			t.a, t.skuA = p.ID, p.SKUs[0].ID
		case "白桃乌龙冷泡茶":
			t.b, t.skuB = p.ID, p.SKUs[0].ID
		}
	}
	if t.a == 0 || t.b == 0 {
		return t, fmt.Errorf("replay-ab: the demo merchant has no 桂花乌龙冷泡茶 / 白桃乌龙冷泡茶 (a data dir seeded before they existed: start with a fresh one)")
	}
	var room struct {
		Room struct {
			ID int64 `json:"id"`
		} `json:"room"`
	}
	if err := c.do(ctx, "POST", "/api/v1/rooms", r.owner, nil, map[string]any{"slug": opts.Slug, "title": "新茶双拼 · 桂花乌龙 vs 白桃乌龙", "product_ids": []int64{t.a, t.b}}, &room); err != nil {
		return t, fmt.Errorf("create room: %w", err)
	}
	r.roomID = room.Room.ID
	if err := c.do(ctx, "POST", "/api/v1/rooms/"+opts.Slug+"/status", r.owner, nil, map[string]string{"status": "live"}, nil); err != nil {
		return t, fmt.Errorf("go live: %w", err)
	}
	return t, nil
}

// storeOf is a pickup store with more than 30 of the SKU.
func (r *replay) storeOf(ctx context.Context, sku int64) (int64, error) {
	var st struct {
		Stores []struct {
			ID        int64 `json:"id"`
			Available int64 `json:"available"`
		} `json:"stores"`
	}
	if err := r.c.do(ctx, "GET", "/api/v1/rooms/"+r.opts.Slug+"/stores?sku="+strconv.FormatInt(sku, 10), "", nil, nil, &st); err != nil {
		return 0, err
	}
	for _, s := range st.Stores {
		if s.Available > 30 {
			return s.ID, nil
		}
	}
	return 0, fmt.Errorf("no store with stock of SKU %d", sku)
}

// join logs every viewer in and has them watch the room, eight at a time.
func (r *replay) join(ctx context.Context) error {
	r.viewers = make([]*replayViewer, r.opts.Viewers)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range r.viewers {
		g.Go(func() error {
			v, err := r.c.viewer(gctx, r.opts.Slug, fmt.Sprintf("1370000%04d", i))
			if err != nil {
				return err
			}
			r.viewers[i] = v
			return v.watch(gctx, r.c, r.roomID)
		})
	}
	return g.Wait()
}

// count adds what one viewer did in a phase to the result.
func (r *replay) count(comments, orders int) {
	r.mu.Lock()
	r.res.Comments += comments
	r.res.Orders += orders
	r.mu.Unlock()
}

// phase pins product; every viewer sees its card, every askEvery-th asks
// about it, a few chat, and every buyEvery-th buys it.
func (r *replay) phase(ctx context.Context, product, sku, store int64, asks []string, askEvery, buyEvery, shift int) error {
	c, slug := r.c, r.opts.Slug
	if err := c.do(ctx, "POST", "/api/v1/rooms/"+slug+"/pin", r.owner, nil, map[string]int64{"product_id": product}, nil); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, v := range r.viewers {
		g.Go(func() error {
			if err := v.event(gctx, c, slug, "card_shown", product); err != nil {
				return err
			}
			comments, orders := 0, 0
			switch {
			case i%askEvery == 0:
				if err := v.comment(gctx, c, slug, asks[(i/askEvery)%len(asks)]); err != nil {
					return err
				}
				comments++
			case i%17 == 3:
				if err := v.comment(gctx, c, slug, talk[(i+shift)%len(talk)]); err != nil {
					return err
				}
				comments++
			}
			if i%buyEvery == 1 {
				if err := v.buy(gctx, c, slug, r.roomID, product, sku, store); err != nil {
					return err
				}
				orders++
			}
			r.count(comments, orders)
			return nil
		})
	}
	return g.Wait()
}

// verdict asks the API for the A/B verdict once the comments are read (in
// the background) or two minutes have passed.
func (r *replay) verdict(ctx context.Context, a, b int64) (json.RawMessage, error) {
	var verdict json.RawMessage
	q := fmt.Sprintf("/api/v1/rooms/%s/ab?a=%d&b=%d", r.opts.Slug, a, b)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		// Comments are read in the background; wait until all are.
		var v struct {
			Asked struct {
				A, B struct{ Successes int64 }
			} `json:"asked"`
		}
		if err := r.c.do(ctx, "GET", q, r.owner, nil, nil, &verdict); err != nil {
			return nil, err
		}
		json.Unmarshal(verdict, &v)
		if v.Asked.A.Successes+v.Asked.B.Successes >= int64(r.opts.Viewers/9+r.opts.Viewers/4) || time.Now().After(deadline) {
			return verdict, nil
		}
		time.Sleep(time.Second)
	}
}

// replayClient is the shared API client (apiclient) as the replay uses it:
// a caller's token, a visitor cookie, and any answer of 300 or more as an
// error that keeps its status.
type replayClient struct {
	api *apiclient.Client // anonymous; WithToken for a logged-in caller
}

// statusError is an answer of 300 or more.
type statusError struct {
	method, path string
	status       int
	body         []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, bytes.TrimSpace(e.body))
}

// do sends one JSON request as bearer (empty: anonymous) with extra headers.
func (c *replayClient) do(ctx context.Context, method, path, bearer string, hdr map[string]string, body, out any) error {
	cl := c.api
	if bearer != "" {
		cl = cl.WithToken(bearer)
	}
	var raw json.RawMessage
	var dst any
	if out != nil {
		dst = &raw
	}
	st, _, err := cl.CallWith(ctx, method, path, hdr, body, dst)
	if err != nil {
		return err
	}
	if st >= 300 {
		return &statusError{method, path, st, raw}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// visitor is the header that carries a viewer's visitor id.
func visitor(id string) map[string]string { return map[string]string{"Cookie": "sl_vid=" + id} }

type replayViewer struct {
	token, visitor string
	ws             *websocket.Conn // watching the room: one viewer session
}

// watch joins the room's stream like the page does and reads it until closed.
func (v *replayViewer) watch(ctx context.Context, c *replayClient, roomID int64) error {
	h := http.Header{}
	h.Set("Cookie", "sl_vid="+v.visitor)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.api.Base, "http")+"/api/v1/ws?sub=room:"+strconv.FormatInt(roomID, 10), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return err
	}
	conn.SetReadLimit(1 << 20)
	v.ws = conn
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return nil
}

// viewer opens the live page (which gives it a visitor id) and logs in
// with a phone code.
func (c *replayClient) viewer(ctx context.Context, slug, phone string) (*replayViewer, error) {
	_, hdr, err := c.api.CallWith(ctx, "GET", "/live/"+slug, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	v := &replayViewer{}
	for _, ck := range (&http.Response{Header: hdr}).Cookies() {
		if ck.Name == "sl_vid" {
			v.visitor = ck.Value
		}
	}
	if v.visitor == "" {
		return nil, fmt.Errorf("live page gave no visitor id (is analytics off?)")
	}
	cl, err := apiclient.LoginViewer(ctx, c.api, MerchantSlug, phone)
	if err != nil {
		return nil, err
	}
	v.token = cl.Token
	return v, nil
}

// event reports what the viewer's page saw, as the logged-in viewer it is
// (the page sends its session too), so the A/B verdict can pair what each
// viewer asked and bought about the two teas.
func (v *replayViewer) event(ctx context.Context, c *replayClient, slug, kind string, product int64) error {
	return c.do(ctx, "POST", "/api/v1/rooms/"+slug+"/events", v.token, visitor(v.visitor), map[string]any{"kind": kind, "product_id": product}, nil)
}

func (v *replayViewer) comment(ctx context.Context, c *replayClient, slug, text string) error {
	err := c.do(ctx, "POST", "/api/v1/rooms/"+slug+"/comments", v.token, nil, map[string]string{"text": text}, nil)
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusTooManyRequests { // one comment per half second per viewer
		time.Sleep(700 * time.Millisecond)
		err = c.do(ctx, "POST", "/api/v1/rooms/"+slug+"/comments", v.token, nil, map[string]string{"text": text}, nil)
	}
	return err
}

// buy opens the card, checks out, orders one unit for pickup and pays on
// the dev provider.
func (v *replayViewer) buy(ctx context.Context, c *replayClient, slug string, roomID, product, sku, store int64) error {
	for _, k := range []string{"card_open", "checkout"} {
		if err := v.event(ctx, c, slug, k, product); err != nil {
			return err
		}
	}
	var key [12]byte
	rand.Read(key[:])
	var o struct {
		ID int64 `json:"id"`
	}
	if err := c.do(ctx, "POST", "/api/v1/orders", v.token, map[string]string{"Idempotency-Key": hex.EncodeToString(key[:])},
		map[string]any{"items": []map[string]int64{{"sku_id": sku, "quantity": 1}}, "fulfilment": "pickup", "store_id": store, "room_id": roomID}, &o); err != nil {
		return fmt.Errorf("order: %w", err)
	}
	var pay struct {
		Intent string `json:"intent"`
	}
	if err := c.do(ctx, "POST", "/api/v1/orders/"+strconv.FormatInt(o.ID, 10)+"/pay", v.token, nil, nil, &pay); err != nil {
		return err
	}
	return c.do(ctx, "POST", "/api/v1/payments/dev/"+pay.Intent+"/confirm", "", nil, nil, nil)
}
