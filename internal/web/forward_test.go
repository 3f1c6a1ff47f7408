package web

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// A forwarded request's caller is taken from its signed header only when the
// signature covers exactly this request, made with this deployment's key,
// and is fresh; anything else is refused, never taken for an anonymous caller.
func TestForwardedPrincipal(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := &Server{ClusterKey: key}
	p := identity.Principal{Kind: identity.KindCustomer, MerchantID: 1, SubjectID: 42, Role: identity.RoleViewer, Name: "用户0042", SessionID: 7, CSRF: "c", Bearer: true}
	pj, _ := json.Marshal(p)
	enc := base64.RawURLEncoding.EncodeToString(pj)
	body := `{"flash_sale_id":3}`
	build := func(signKey []byte, at time.Time, sentBody, principal string) (*identity.Principal, error) {
		r := httptest.NewRequest("POST", "/api/v1/orders?x=1", strings.NewReader(sentBody))
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		r.Header.Set(hdrPrincipal, principal)
		r.Header.Set(hdrPrincipalSig, ts+"."+principalMAC(signKey, ts, "POST", "/api/v1/orders?x=1", enc, []byte(body)))
		got, err := s.forwardedPrincipal(r)
		if err == nil && got != nil {
			// The handler still gets the whole body.
			if rest, e := io.ReadAll(r.Body); e != nil || string(rest) != sentBody {
				t.Fatalf("body after verification %q, %v", rest, e)
			}
		}
		return got, err
	}
	got, err := build(key, time.Now(), body, enc)
	if err != nil || got == nil || *got != p {
		t.Fatalf("valid forward: %+v %v, want %+v", got, err, p)
	}
	for name, c := range map[string]struct {
		key       []byte
		at        time.Time
		body, enc string
	}{
		"other key":          {[]byte("another deployment's key........"), time.Now(), body, enc},
		"stale":              {key, time.Now().Add(-time.Minute), body, enc},
		"from the future":    {key, time.Now().Add(time.Minute), body, enc},
		"body changed":       {key, time.Now(), `{"flash_sale_id":4}`, enc},
		"principal replaced": {key, time.Now(), body, base64.RawURLEncoding.EncodeToString([]byte(`{"Kind":"staff","Role":"owner","MerchantID":1}`))},
	} {
		if got, err := build(c.key, c.at, c.body, c.enc); !apperr.Is(err, "unauthorized") || got != nil {
			t.Errorf("%s: %+v %v, want unauthorized", name, got, err)
		}
	}
	// A body over the API's limit is not read into memory past it.
	huge := strings.Repeat("x", maxForwardBody+10)
	hr := httptest.NewRequest("POST", "/api/v1/orders?x=1", strings.NewReader(huge))
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	hr.Header.Set(hdrPrincipal, enc)
	hr.Header.Set(hdrPrincipalSig, ts+"."+principalMAC(key, ts, "POST", "/api/v1/orders?x=1", enc, []byte(huge)))
	if got, err := s.forwardedPrincipal(hr); !apperr.Is(err, "unauthorized") || got != nil {
		t.Fatalf("oversized forwarded body: %+v %v", got, err)
	}
	// No header: the session is looked up as usual. No key: headers are ignored.
	if got, err := s.forwardedPrincipal(httptest.NewRequest("POST", "/api/v1/orders", strings.NewReader(body))); got != nil || err != nil {
		t.Fatalf("plain request: %+v %v", got, err)
	}
	r := httptest.NewRequest("POST", "/api/v1/orders", strings.NewReader(body))
	r.Header.Set(hdrPrincipal, enc)
	if got, err := (&Server{}).forwardedPrincipal(r); got != nil || err != nil {
		t.Fatalf("server without a cluster key took a forwarded principal: %+v %v", got, err)
	}
}
