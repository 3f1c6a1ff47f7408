package sms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// AliyunEndpoint is Aliyun SMS (dysmsapi) in mainland China.
const AliyunEndpoint = "https://dysmsapi.aliyuncs.com/"

// Aliyun sends with Aliyun SMS SendSms (API version 2017-05-25), signed
// with the RPC signature: HMAC-SHA1 over the sorted, percent-encoded
// query, keyed with the AccessKey Secret and "&".
type Aliyun struct{ c Config }

// SendOTP sends the install's template with {"code": code} to phone.
func (a *Aliyun) SendOTP(ctx context.Context, phone, code string) error {
	return a.SendCode(ctx, phone, code, Settings{})
}

// SendCode sends with the merchant's sign name and template where set.
func (a *Aliyun) SendCode(ctx context.Context, phone, code string, with Settings) error {
	with = with.Or(a.c.SignName, a.c.Template)
	param, _ := json.Marshal(map[string]string{"code": code})
	nonce := make([]byte, 16)
	rand.Read(nonce)
	region := a.c.Region
	if region == "" || strings.HasPrefix(region, "ap-") {
		region = "cn-hangzhou"
	}
	q := map[string]string{
		"AccessKeyId": a.c.KeyID, "Action": "SendSms", "Format": "JSON", "PhoneNumbers": phone, "RegionId": region,
		"SignName": with.SignName, "SignatureMethod": "HMAC-SHA1", "SignatureNonce": hex.EncodeToString(nonce), "SignatureVersion": "1.0",
		"TemplateCode": with.Template, "TemplateParam": string(param), "Timestamp": a.c.Now().UTC().Format("2006-01-02T15:04:05Z"), "Version": "2017-05-25",
	}
	q["Signature"] = AliyunSignature(http.MethodPost, q, a.c.KeySecret)
	form := url.Values{}
	for k, v := range q {
		form.Set(k, v)
	}
	endpoint := AliyunEndpoint
	if a.c.BaseURL != "" {
		endpoint = a.c.BaseURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.c.Client.Do(req)
	if err != nil {
		return &Error{Provider: "aliyun", Code: "unreachable", Message: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out struct{ Code, Message, RequestId, BizId string }
	if err := json.Unmarshal(body, &out); err != nil {
		return &Error{Provider: "aliyun", Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: "unreadable answer"}
	}
	if out.Code != "OK" {
		return &Error{Provider: "aliyun", Code: out.Code, Message: out.Message}
	}
	return nil
}

// AliyunSignature is the RPC signature of Aliyun's POP APIs: percent-encode
// every parameter (except Signature) by RFC 3986, sort by name, join as a
// query; sign METHOD&%2F&encode(query) with HMAC-SHA1 keyed secret+"&".
func AliyunSignature(method string, params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = AliyunEncode(k) + "=" + AliyunEncode(params[k])
	}
	toSign := method + "&" + AliyunEncode("/") + "&" + AliyunEncode(strings.Join(parts, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// AliyunEncode is RFC 3986 percent-encoding as Aliyun specifies it
// (space as %20, * as %2A, ~ kept).
func AliyunEncode(s string) string {
	e := url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
}
