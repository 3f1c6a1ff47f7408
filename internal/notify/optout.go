package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// OptOutToken is the one-tap opt-out link's token for one customer and
// channel (in every push and text): no login needed, nothing else it can do.
func OptOutToken(key []byte, merchantID, customerID int64, channel string) string {
	body := strconv.FormatInt(merchantID, 36) + "." + strconv.FormatInt(customerID, 36) + "." + channel
	m := hmac.New(sha256.New, key)
	m.Write([]byte("optout\n" + body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:22]
}

// ParseOptOut checks a token and says whose and which channel.
func ParseOptOut(key []byte, token string) (merchantID, customerID int64, channel string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || !slices.Contains(AllChannels, parts[2]) {
		return 0, 0, "", false
	}
	m, err1 := strconv.ParseInt(parts[0], 36, 64)
	c, err2 := strconv.ParseInt(parts[1], 36, 64)
	if err1 != nil || err2 != nil || m <= 0 || c <= 0 {
		return 0, 0, "", false
	}
	if !hmac.Equal([]byte(OptOutToken(key, m, c, parts[2])), []byte(token)) {
		return 0, 0, "", false
	}
	return m, c, parts[2], true
}
