// Package kuaidi100 tracks parcels with 快递100's real-time query API
// (实时快递查询, POST https://poll.kuaidi100.com/poll/query.do): the form
// carries customer (the account's company number), param (the query as
// JSON) and sign = upper(MD5(param + key + customer)). The answer is JSON:
// status "200" with data (newest first) and state (0 在途, 1 揽收, 2 疑难,
// 3 签收, 4 退签, 5 派件, 6 退回, 7 转投, 8 清关, 14 拒签), or result false
// with returnCode and message. kuaidi100test is a local fake that checks
// the signature.
package kuaidi100

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/delivery"
)

// DefaultURL is the vendor's query endpoint.
const DefaultURL = "https://poll.kuaidi100.com/poll/query.do"

// Client is one kuaidi100 account.
type Client struct {
	Customer string // 公司编号 (customer)
	Key      string // 授权 key
	URL      string // DefaultURL, or a fake's
	HTTP     *http.Client
}

var _ delivery.Tracker = (*Client)(nil)

// Name implements delivery.Tracker.
func (c *Client) Name() string { return "kuaidi100" }

// Sign is kuaidi100's request signature.
func Sign(param, key, customer string) string {
	sum := md5.Sum([]byte(param + key + customer))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Query is the param document.
type Query struct {
	Com      string `json:"com"`
	Num      string `json:"num"`
	Phone    string `json:"phone,omitempty"`
	ResultV2 string `json:"resultv2,omitempty"`
	Show     string `json:"show"`
	Order    string `json:"order"`
}

// Answer is the vendor's reply (both shapes).
type Answer struct {
	Message    string  `json:"message"`
	Status     string  `json:"status,omitempty"`
	State      string  `json:"state,omitempty"`
	IsCheck    string  `json:"ischeck,omitempty"`
	Com        string  `json:"com,omitempty"`
	Nu         string  `json:"nu,omitempty"`
	Data       []Datum `json:"data,omitempty"`
	Result     *bool   `json:"result,omitempty"`
	ReturnCode string  `json:"returnCode,omitempty"`
}

// Datum is one tracking line.
type Datum struct {
	Time     string `json:"time"` // "2026-12-07 10:00:00", China time
	Context  string `json:"context"`
	Location string `json:"location,omitempty"`
	Status   string `json:"status,omitempty"`
}

// Stage maps a kuaidi100 state to ours.
func Stage(state string) delivery.Stage {
	switch state {
	case "1":
		return delivery.StageCollected
	case "3":
		return delivery.StageDelivered
	case "5":
		return delivery.StageDelivering
	case "2", "4", "14":
		return delivery.StageProblem
	case "6":
		return delivery.StageReturned
	}
	return delivery.StageInTransit
}

// Track implements delivery.Tracker.
func (c *Client) Track(ctx context.Context, carrier, trackingNo, phone string) (*delivery.Track, error) {
	car, ok := delivery.CarrierByCode(carrier)
	if !ok {
		return nil, delivery.ErrUnknownCarrier
	}
	no, err := delivery.NormalizeTrackingNo(trackingNo)
	if err != nil {
		return nil, err
	}
	q := Query{Com: car.Code, Num: no, ResultV2: "1", Show: "0", Order: "desc"}
	if car.NeedsPhone && len(phone) >= 4 {
		q.Phone = phone[len(phone)-4:]
	}
	pj, _ := json.Marshal(q)
	form := url.Values{"customer": {c.Customer}, "param": {string(pj)}, "sign": {Sign(string(pj), c.Key, c.Customer)}}
	u := c.URL
	if u == "" {
		u = DefaultURL
	}
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", delivery.ErrProvider, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("%w: HTTP %d", delivery.ErrProvider, resp.StatusCode)
	}
	var a Answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("%w: %v", delivery.ErrProvider, err)
	}
	if a.Status != "200" {
		if a.ReturnCode == "500" { // 查询无结果: the carrier has no record yet
			return nil, delivery.ErrNotFound
		}
		return nil, fmt.Errorf("%w: %s %s", delivery.ErrProvider, a.ReturnCode, a.Message)
	}
	t := &delivery.Track{Carrier: car.Code, TrackingNo: no, Stage: Stage(a.State), Delivered: a.State == "3", Events: []delivery.Event{}}
	for i, d := range a.Data {
		at, err := time.ParseInLocation("2006-01-02 15:04:05", d.Time, cn.Shanghai)
		if err != nil {
			continue
		}
		st := delivery.StageInTransit
		if i == 0 {
			st = t.Stage
		}
		t.Events = append(t.Events, delivery.Event{At: at.UTC(), Stage: st, Text: d.Context, Location: d.Location, Source: c.Name()})
	}
	return t, nil
}
