package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TencentEndpoint is Tencent Cloud SMS (API 3.0).
const TencentEndpoint = "https://sms.tencentcloudapi.com/"

// Tencent sends with Tencent Cloud SMS SendSms (version 2021-01-11),
// signed with TC3-HMAC-SHA256.
type Tencent struct{ c Config }

// SendOTP sends the install's template with the code as its one parameter.
func (t *Tencent) SendOTP(ctx context.Context, phone, code string) error {
	return t.SendCode(ctx, phone, code, Settings{})
}

// SendCode sends with the merchant's sign name and template where set.
func (t *Tencent) SendCode(ctx context.Context, phone, code string, with Settings) error {
	with = with.Or(t.c.SignName, t.c.Template)
	payload, _ := json.Marshal(map[string]any{
		"PhoneNumberSet": []string{"+86" + phone}, "SmsSdkAppId": t.c.AppID, "SignName": with.SignName,
		"TemplateId": with.Template, "TemplateParamSet": []string{code},
	})
	endpoint := TencentEndpoint
	if t.c.BaseURL != "" {
		endpoint = t.c.BaseURL
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	region := t.c.Region
	if region == "" || strings.HasPrefix(region, "cn-") {
		region = "ap-guangzhou"
	}
	now := t.c.Now().UTC()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-TC-Action", "SendSms")
	h.Set("X-TC-Version", "2021-01-11")
	h.Set("X-TC-Region", region)
	h.Set("X-TC-Timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("Authorization", TencentAuthorization(t.c.KeyID, t.c.KeySecret, "sms", u.Host, "SendSms", payload, now))
	resp, err := t.c.Client.Do(req)
	if err != nil {
		return &Error{Provider: "tencent", Code: "unreachable", Message: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out struct {
		Response struct {
			Error         *struct{ Code, Message string }
			SendStatusSet []struct {
				Code, Message, SerialNo string
			}
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return &Error{Provider: "tencent", Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: "unreadable answer"}
	}
	if e := out.Response.Error; e != nil {
		return &Error{Provider: "tencent", Code: e.Code, Message: e.Message}
	}
	if len(out.Response.SendStatusSet) != 1 {
		return &Error{Provider: "tencent", Code: "no_status", Message: "no send status in the answer"}
	}
	if st := out.Response.SendStatusSet[0]; st.Code != "Ok" {
		return &Error{Provider: "tencent", Code: st.Code, Message: st.Message}
	}
	return nil
}

// TencentAuthorization is the TC3-HMAC-SHA256 Authorization header of a
// POST with a JSON body: canonical request over content-type, host and
// x-tc-action; credential scope date/service/tc3_request; signing key
// derived from "TC3"+secret through the date, the service and "tc3_request".
func TencentAuthorization(secretID, secretKey, service, host, action string, payload []byte, now time.Time) string {
	date := now.UTC().Format("2006-01-02")
	signed := "content-type;host;x-tc-action"
	canonical := "POST\n/\n\n" +
		"content-type:application/json; charset=utf-8\n" +
		"host:" + host + "\n" +
		"x-tc-action:" + strings.ToLower(action) + "\n\n" +
		signed + "\n" + sha256hex(payload)
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(now.Unix(), 10) + "\n" + scope + "\n" + sha256hex([]byte(canonical))
	key := hmacSHA256([]byte("TC3"+secretKey), date)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "tc3_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + scope + ", SignedHeaders=" + signed + ", Signature=" + sig
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
