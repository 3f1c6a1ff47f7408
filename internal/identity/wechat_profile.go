package identity

import "time"

// WeChatProfile is the nickname and avatar a customer agreed to share
// through their WeChat (snsapi_userinfo), shown on their 我的 page; the
// avatar image itself is served from the site.
type WeChatProfile struct {
	Nickname    string    `json:"nickname"`
	HasAvatar   bool      `json:"has_avatar"`
	ConsentedAt time.Time `json:"consented_at"`
}

// WeChatUser is what an official account's snsapi_userinfo sign-in tells
// about the person who agreed.
type WeChatUser struct {
	OpenID     string
	Nickname   string
	Avatar     []byte // the headimgurl image, fetched so pages serve it from the site
	AvatarType string
	// Snapshot is a 快照页 visitor (is_snapshotuser): a virtual openid that
	// must not be bound to an account.
	Snapshot bool
}
