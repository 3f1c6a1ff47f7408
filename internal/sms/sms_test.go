package sms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shelflive/shelflive/internal/sms"
	"github.com/shelflive/shelflive/internal/sms/smstest"
)

// The example of Aliyun's SMS signature documentation: the same
// parameters must give the published signature.
func TestAliyunSignatureDocExample(t *testing.T) {
	p := map[string]string{
		"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
		"RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
		"TemplateParam": `{"customer":"test"}`, "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
	}
	if got := sms.AliyunSignature("GET", p, "testSecret"); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Fatalf("signature %s", got)
	}
}

func TestProviders(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		fake func(testing.TB, string, string) *smstest.Fake
		cfg  sms.Config
		fail string
	}{
		{"Aliyun", smstest.Aliyun, sms.Config{Provider: "aliyun", SignName: "鲜食集", Template: "SMS_154950909"}, "isv.BUSINESS_LIMIT_CONTROL"},
		{"Tencent", smstest.Tencent, sms.Config{Provider: "tencent", SignName: "鲜食集", Template: "1234567", AppID: "1400000001"}, "LimitExceeded.PhoneNumberDailyLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake(t, "key-id-1", "key-secret-1")
			cfg := tc.cfg
			cfg.KeyID, cfg.KeySecret, cfg.BaseURL = f.KeyID, f.KeySecret, f.URL
			s, err := sms.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SendOTP(ctx, "13800138000", "246810"); err != nil {
				t.Fatal(err)
			}
			if got := f.Sent(); len(got) != 1 || got[0].Code != "246810" || got[0].Phone != "13800138000" || got[0].SignName != "鲜食集" || got[0].Template != cfg.Template {
				t.Fatalf("delivered %+v", got)
			}
			// The vendor's own refusal comes back as an *sms.Error with its code.
			f.FailNext(tc.fail)
			var se *sms.Error
			if err := s.SendOTP(ctx, "13800138000", "111111"); !errors.As(err, &se) || se.Code != tc.fail {
				t.Fatalf("refused send: %v", err)
			}
			// A wrong secret fails the fake's signature check.
			cfg.KeySecret = "not-the-secret"
			bad, _ := sms.New(cfg)
			if err := bad.SendOTP(ctx, "13800138000", "222222"); !errors.As(err, &se) || (se.Code != "SignatureDoesNotMatch" && se.Code != "AuthFailure.SignatureFailure") {
				t.Fatalf("wrong secret: %v", err)
			}
			cfg.KeySecret, cfg.KeyID = f.KeySecret, "someone-else"
			other, _ := sms.New(cfg)
			if err := other.SendOTP(ctx, "13800138000", "333333"); !errors.As(err, &se) {
				t.Fatalf("unknown key id: %v", err)
			}
			if n := len(f.Sent()); n != 1 {
				t.Fatalf("%d messages delivered, want only the first", n)
			}
		})
	}
	if _, err := sms.New(sms.Config{Provider: "tencent", KeyID: "x", KeySecret: "y", SignName: "s", Template: "t"}); err == nil {
		t.Fatal("tencent without SmsSdkAppId accepted")
	}
	if _, err := sms.New(sms.Config{Provider: "nope"}); err == nil {
		t.Fatal("unknown provider accepted")
	}
}

// memSettings is a SettingsStore in memory (the SQL one is tested through
// the node in cmd/shelflive's TestSMSPerMerchant).
type memSettings map[int64]sms.Settings

func (m memSettings) SMSSettings(_ context.Context, id int64) (sms.Settings, error) {
	return m[id], nil
}
func (m memSettings) PutSMSSettings(_ context.Context, id int64, s sms.Settings) error {
	m[id] = s
	return nil
}

// TestPerMerchant: each shop's codes go out with its own sign name and
// template through the install's account (both providers sign the
// request with them: the fakes check the signature over them), a shop
// without its own uses the install's, and a shop with only one of the two
// gets the install's other one.
func TestPerMerchant(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		fake     func(testing.TB, string, string) *smstest.Fake
		cfg      sms.Config
		own      sms.Settings
		badTempl string
	}{
		{"Aliyun", smstest.Aliyun, sms.Config{Provider: "aliyun", SignName: "鲜食集", Template: "SMS_154950909"}, sms.Settings{SignName: "北门生鲜", Template: "SMS_200000001"}, "1234567"},
		{"Tencent", smstest.Tencent, sms.Config{Provider: "tencent", SignName: "鲜食集", Template: "1234567", AppID: "1400000001"}, sms.Settings{SignName: "北门生鲜", Template: "7654321"}, "SMS_200000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake(t, "key-id-1", "key-secret-1")
			cfg := tc.cfg
			cfg.KeyID, cfg.KeySecret, cfg.BaseURL = f.KeyID, f.KeySecret, f.URL
			p, err := sms.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			store := memSettings{1: tc.own, 3: {SignName: "南门果铺"}}
			send := &sms.PerMerchant{Sender: p, Store: store}
			for i, want := range []sms.Settings{tc.own, {SignName: cfg.SignName, Template: cfg.Template}, {SignName: "南门果铺", Template: cfg.Template}} {
				if err := send.SendOTP(ctx, int64(i+1), "13800138000", "24681"+string(rune('0'+i))); err != nil {
					t.Fatal(err)
				}
				got := f.Sent()
				if last := got[len(got)-1]; last.SignName != want.SignName || last.Template != want.Template {
					t.Fatalf("merchant %d: sent with %q %q, want %+v", i+1, last.SignName, last.Template, want)
				}
			}
			own := tc.own
			if err := own.Validate(cfg.Provider); err != nil {
				t.Fatalf("valid settings refused: %v", err)
			}
			bad := sms.Settings{Template: tc.badTempl}
			if err := bad.Validate(cfg.Provider); err == nil {
				t.Fatalf("template %q accepted for %s", tc.badTempl, cfg.Provider)
			}
		})
	}
	for _, name := range []string{"鲜", "【鲜食集】", "一二三四五六七八九十一二三", "鲜 食"} {
		s := sms.Settings{SignName: name}
		if err := s.Validate("aliyun"); err == nil {
			t.Fatalf("sign name %q accepted", name)
		}
	}
	s := sms.Settings{SignName: "  鲜食集 ", Template: " SMS_1234 "}
	if err := s.Validate("aliyun"); err != nil || s.SignName != "鲜食集" || s.Template != "SMS_1234" {
		t.Fatalf("trimmed %+v %v", s, err)
	}
}
