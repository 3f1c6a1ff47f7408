package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// openIDCookie holds the viewer's WeChat openid for JSAPI payments, as the
// WeChat OAuth (snsapi_base) round trip found it, MACed with the cluster
// key so a page cannot make up someone else's.
const openIDCookie = "sl_wx_openid"

func (s *Server) openIDMAC(openid string) string {
	m := hmac.New(sha256.New, s.ClusterKey)
	m.Write([]byte("wechat-openid\n" + openid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sealOpenID is the cookie value for an openid.
func (s *Server) sealOpenID(openid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(openid)) + "." + s.openIDMAC(openid)
}

// openID reads the cookie value; "" when it is not one ShelfLive made.
func (s *Server) openID(v string) string {
	enc, mac, ok := strings.Cut(v, ".")
	if !ok || len(s.ClusterKey) == 0 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(mac), []byte(s.openIDMAC(string(raw)))) {
		return ""
	}
	return string(raw)
}
