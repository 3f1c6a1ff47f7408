// Package smstest runs local fakes of Aliyun SMS and Tencent Cloud SMS:
// real HTTP servers that check a request's signature the way each vendor
// documents it (computed here independently of package sms), refuse what
// the vendor refuses, with the vendor's error answers, and keep the codes
// they "delivered" so a test can read them like a phone would.
package smstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sent is one message the fake accepted.
type Sent struct {
	Phone    string // 11 digits
	Code     string
	SignName string
	Template string
}

// Fake is a running fake provider.
type Fake struct {
	URL       string
	KeyID     string
	KeySecret string

	mu     sync.Mutex
	sent   []Sent
	nonces map[string]bool
	fail   string // next answer: this vendor error code
}

// Sent returns what was delivered so far.
func (f *Fake) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// LastCode is the code last delivered to phone ("" if none).
func (f *Fake) LastCode(phone string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.sent) - 1; i >= 0; i-- {
		if f.sent[i].Phone == phone {
			return f.sent[i].Code
		}
	}
	return ""
}

// FailNext makes the next send fail with the vendor's error code, e.g.
// "isv.BUSINESS_LIMIT_CONTROL" (Aliyun) or
// "LimitExceeded.PhoneNumberDailyLimit" (Tencent).
func (f *Fake) FailNext(code string) {
	f.mu.Lock()
	f.fail = code
	f.mu.Unlock()
}

func (f *Fake) takeFail() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.fail
	f.fail = ""
	return c
}

func (f *Fake) record(s Sent) {
	f.mu.Lock()
	f.sent = append(f.sent, s)
	f.mu.Unlock()
}

func (f *Fake) freshNonce(n string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nonces == nil {
		f.nonces = map[string]bool{}
	}
	if n == "" || f.nonces[n] {
		return false
	}
	f.nonces[n] = true
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Aliyun starts a fake of Aliyun SMS (dysmsapi SendSms, API 2017-05-25).
func Aliyun(tb testing.TB, keyID, secret string) *Fake {
	f := &Fake{KeyID: keyID, KeySecret: secret}
	srv := httptest.NewServer(http.HandlerFunc(f.aliyun))
	tb.Cleanup(srv.Close)
	f.URL = srv.URL + "/"
	return f
}

// aliyun answers SendSms as Aliyun does. It is long because it is the
// RPC signature check, step by step as documented, in one handler.
func (f *Fake) aliyun(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		writeJSON(w, status, map[string]string{"RequestId": "fake-" + strconv.FormatInt(time.Now().UnixNano(), 36), "Code": code, "Message": msg, "Recommend": "https://next.api.aliyun.com/troubleshoot"})
	}
	if err := r.ParseForm(); err != nil {
		fail(400, "InvalidParameter", "malformed request")
		return
	}
	p := map[string]string{}
	for k, v := range r.Form {
		p[k] = v[0]
	}
	for _, k := range []string{"AccessKeyId", "Action", "Format", "PhoneNumbers", "SignName", "SignatureMethod", "SignatureNonce", "SignatureVersion", "TemplateCode", "Timestamp", "Version", "Signature"} {
		if p[k] == "" {
			fail(400, "MissingParameter", "The input parameter \""+k+"\" that is mandatory for processing this request is not supplied.")
			return
		}
	}
	if p["AccessKeyId"] != f.KeyID {
		fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	if p["Action"] != "SendSms" || p["Version"] != "2017-05-25" || p["SignatureMethod"] != "HMAC-SHA1" || p["SignatureVersion"] != "1.0" {
		fail(400, "InvalidParameter", "unsupported action, version or signature method")
		return
	}
	// The documented algorithm: sorted, RFC 3986-encoded parameters; the
	// method, "/" and that query, each encoded, joined by "&"; HMAC-SHA1
	// keyed with the secret and "&"; base64.
	keys := []string{}
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	var q []string
	for _, k := range keys {
		q = append(q, enc(k)+"="+enc(p[k]))
	}
	mac := hmac.New(sha1.New, []byte(f.KeySecret+"&"))
	mac.Write([]byte(r.Method + "&" + enc("/") + "&" + enc(strings.Join(q, "&"))))
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(p["Signature"])) {
		fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil || time.Since(ts) > 15*time.Minute || time.Until(ts) > 15*time.Minute {
		fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	if !f.freshNonce(p["SignatureNonce"]) {
		fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}
	if len(p["PhoneNumbers"]) != 11 {
		writeJSON(w, 200, map[string]string{"RequestId": "fake", "Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
		return
	}
	if code := f.takeFail(); code != "" {
		writeJSON(w, 200, map[string]string{"RequestId": "fake", "Code": code, "Message": "触发号码天级流控Permits:10"})
		return
	}
	var param struct{ Code string }
	if json.Unmarshal([]byte(p["TemplateParam"]), &param) != nil || param.Code == "" {
		writeJSON(w, 200, map[string]string{"RequestId": "fake", "Code": "isv.TEMPLATE_PARAMS_ILLEGAL", "Message": "模板变量里包含非法关键字"})
		return
	}
	f.record(Sent{Phone: p["PhoneNumbers"], Code: param.Code, SignName: p["SignName"], Template: p["TemplateCode"]})
	writeJSON(w, 200, map[string]string{"RequestId": "fake-req", "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})
}

// Tencent starts a fake of Tencent Cloud SMS (SendSms, version 2021-01-11).
func Tencent(tb testing.TB, secretID, secretKey string) *Fake {
	f := &Fake{KeyID: secretID, KeySecret: secretKey}
	srv := httptest.NewServer(http.HandlerFunc(f.tencent))
	tb.Cleanup(srv.Close)
	f.URL = srv.URL + "/"
	return f
}

// tencent answers SendSms as Tencent Cloud does. It is long because it is
// the TC3-HMAC-SHA256 signature check, step by step as documented, in one
// handler.
func (f *Fake) tencent(w http.ResponseWriter, r *http.Request) {
	// Tencent answers every API error with HTTP 200 and Response.Error.
	fail := func(code, msg string) {
		writeJSON(w, 200, map[string]any{"Response": map[string]any{"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": "fake-req"}})
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	auth := r.Header.Get("Authorization")
	const algo = "TC3-HMAC-SHA256 "
	if r.Method != http.MethodPost || !strings.HasPrefix(auth, algo) {
		fail("AuthFailure.InvalidAuthorization", "Authorization header is malformed.")
		return
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 4 || cred[3] != "tc3_request" || cred[2] != "sms" {
		fail("AuthFailure.InvalidAuthorization", "Credential is malformed.")
		return
	}
	if cred[0] != f.KeyID {
		fail("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.")
		return
	}
	tsRaw := r.Header.Get("X-TC-Timestamp")
	tsN, err := strconv.ParseInt(tsRaw, 10, 64)
	ts := time.Unix(tsN, 0).UTC()
	if err != nil || time.Since(ts) > 5*time.Minute || time.Until(ts) > 5*time.Minute {
		fail("AuthFailure.SignatureExpire", "Signature expired. Timestamp and server time cannot differ by more than five minutes.")
		return
	}
	if cred[1] != ts.Format("2006-01-02") {
		fail("AuthFailure.SignatureFailure", "The credential date does not match the timestamp.")
		return
	}
	// Canonical request from the headers as received, named by SignedHeaders.
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canonHeaders strings.Builder
	for _, name := range signed {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		canonHeaders.WriteString(name + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	if !contains(signed, "content-type") || !contains(signed, "host") {
		fail("AuthFailure.SignatureFailure", "content-type and host must be signed.")
		return
	}
	sum := sha256.Sum256(body)
	canonical := "POST\n/\n\n" + canonHeaders.String() + "\n" + fields["SignedHeaders"] + "\n" + hex.EncodeToString(sum[:])
	csum := sha256.Sum256([]byte(canonical))
	toSign := "TC3-HMAC-SHA256\n" + tsRaw + "\n" + strings.Join(cred[1:], "/") + "\n" + hex.EncodeToString(csum[:])
	k := mac256([]byte("TC3"+f.KeySecret), cred[1])
	k = mac256(k, "sms")
	k = mac256(k, "tc3_request")
	if !hmac.Equal([]byte(hex.EncodeToString(mac256(k, toSign))), []byte(fields["Signature"])) {
		fail("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
		return
	}
	if r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" || r.Header.Get("X-TC-Region") == "" {
		fail("InvalidAction", "The action, version or region is wrong.")
		return
	}
	var in struct {
		PhoneNumberSet   []string
		SmsSdkAppId      string
		SignName         string
		TemplateId       string
		TemplateParamSet []string
	}
	if json.Unmarshal(body, &in) != nil || len(in.PhoneNumberSet) != 1 || in.SmsSdkAppId == "" || in.SignName == "" || in.TemplateId == "" || len(in.TemplateParamSet) != 1 {
		fail("InvalidParameter", "The request body is malformed.")
		return
	}
	phone := strings.TrimPrefix(in.PhoneNumberSet[0], "+86")
	status := map[string]any{"SerialNo": "fake-serial", "PhoneNumber": in.PhoneNumberSet[0], "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success", "IsoCode": "CN"}
	if code := f.takeFail(); code != "" {
		status["Code"], status["Message"], status["Fee"] = code, "the number of SMS messages sent from a single mobile number every day exceeds the upper limit", 0
	} else {
		f.record(Sent{Phone: phone, Code: in.TemplateParamSet[0], SignName: in.SignName, Template: in.TemplateId})
	}
	writeJSON(w, 200, map[string]any{"Response": map[string]any{"SendStatusSet": []any{status}, "RequestId": "fake-req"}})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mac256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
