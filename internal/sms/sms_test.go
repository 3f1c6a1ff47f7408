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
