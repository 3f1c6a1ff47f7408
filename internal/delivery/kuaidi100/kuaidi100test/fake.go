// Package kuaidi100test is a local 快递100 query endpoint for tests: it
// checks the form's signature (upper MD5 of param + key + customer) with
// the account's key, requires the phone's last four digits for SF Express,
// and answers parcels the test registered in the vendor's JSON shape.
package kuaidi100test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/shelflive/shelflive/internal/delivery/kuaidi100"
)

// Fake is the query endpoint of one kuaidi100 account.
type Fake struct {
	URL      string
	Customer string
	Key      string

	mu      sync.Mutex
	parcels map[string]Parcel // com/num
	calls   int
	bad     int
	srv     *httptest.Server
}

// Parcel is what the fake knows about one parcel.
type Parcel struct {
	State string
	Phone string // last four digits the carrier wants ("" = none)
	Data  []kuaidi100.Datum
}

// Start runs the fake.
func Start(customer, key string) *Fake {
	f := &Fake{Customer: customer, Key: key, parcels: map[string]Parcel{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL + "/poll/query.do"
	return f
}

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// Put registers (or updates) a parcel.
func (f *Fake) Put(com, num string, p Parcel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.parcels[com+"/"+num] = p
}

// Calls reports the queries answered and those refused for a bad signature.
func (f *Fake) Calls() (ok, badSign int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.bad
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(code, msg string) {
		no := false
		json.NewEncoder(w).Encode(kuaidi100.Answer{Result: &no, ReturnCode: code, Message: msg})
	}
	if r.Method != "POST" || r.ParseForm() != nil {
		fail("400", "请求方式或参数错误")
		return
	}
	param, customer := r.PostForm.Get("param"), r.PostForm.Get("customer")
	if customer != f.Customer || r.PostForm.Get("sign") != kuaidi100.Sign(param, f.Key, f.Customer) {
		f.mu.Lock()
		f.bad++
		f.mu.Unlock()
		fail("601", "验证签名失败")
		return
	}
	var q kuaidi100.Query
	if err := json.Unmarshal([]byte(param), &q); err != nil || q.Com == "" || q.Num == "" {
		fail("400", "参数错误")
		return
	}
	f.mu.Lock()
	p, ok := f.parcels[q.Com+"/"+q.Num]
	f.calls++
	f.mu.Unlock()
	switch {
	case !ok:
		fail("500", "查询无结果，请隔段时间再查")
	case p.Phone != "" && q.Phone != p.Phone:
		fail("408", "快递公司参数异常：电话号码校验不通过")
	default:
		json.NewEncoder(w).Encode(kuaidi100.Answer{Message: "ok", Status: "200", State: p.State, IsCheck: map[bool]string{true: "1", false: "0"}[p.State == "3"],
			Com: q.Com, Nu: q.Num, Data: p.Data})
	}
}
