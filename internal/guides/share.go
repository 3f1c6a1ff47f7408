// Package guides is selling through people: share codes the server signs
// (so nobody can name a guide they are not), last-touch attribution of an
// order to the sharer, commission rates per product or category, and the
// monthly statement per guide and store that adds up to the orders.
package guides

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// CodeTTL is how long a signed share code (a link, a poster's QR code) is
// honoured after it was made; Window is the last-touch window: an order is
// attributed to the last valid code the viewer opened within Window before
// buying.
const (
	CodeTTL = 30 * 24 * time.Hour
	Window  = 7 * 24 * time.Hour
)

// Sharer kinds, the first letter of a sharer id.
const (
	KindStaff    = 's' // a guide (staff account): the order keeps the guide's code
	KindCustomer = 'c' // a viewer who shared: the order keeps "c<id base 36>"
)

// Sharer is who made a share code.
type Sharer struct {
	Kind byte
	ID   int64
}

// String is the sharer id carried in codes: "s1f", "c2k".
func (s Sharer) String() string { return string(s.Kind) + strconv.FormatInt(s.ID, 36) }

// Signer signs and checks share codes with the cluster's share secret, so
// every node accepts a code any node made.
type Signer struct {
	Key []byte
}

const macLen = 16 // base64url characters: 96 bits

func (g *Signer) mac(parts ...string) string {
	m := hmac.New(sha256.New, g.Key)
	m.Write([]byte(strings.Join(parts, "\n")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:macLen]
}

// Sign makes the share code of sharer in merchant's shop at now:
// "<sharer>.<unix seconds base 36>.<mac>", about 28 characters.
func (g *Signer) Sign(merchantID int64, s Sharer, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 36)
	return s.String() + "." + ts + "." + g.mac("share", strconv.FormatInt(merchantID, 10), s.String(), ts)
}

// Verify checks a share code of merchant's shop: its signature, and that it
// was made at most CodeTTL before now (and not in the future). A forged,
// foreign, mangled or stale code is not ok; callers ignore it.
func (g *Signer) Verify(merchantID int64, code string, now time.Time) (Sharer, time.Time, bool) {
	if g == nil || len(g.Key) == 0 || len(code) > 64 {
		return Sharer{}, time.Time{}, false
	}
	who, rest, ok1 := strings.Cut(code, ".")
	ts, mac, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(who) < 2 || (who[0] != KindStaff && who[0] != KindCustomer) {
		return Sharer{}, time.Time{}, false
	}
	id, err := strconv.ParseInt(who[1:], 36, 64)
	sec, err2 := strconv.ParseInt(ts, 36, 64)
	if err != nil || err2 != nil || id <= 0 || strconv.FormatInt(id, 36) != who[1:] {
		return Sharer{}, time.Time{}, false
	}
	if !hmac.Equal([]byte(mac), []byte(g.mac("share", strconv.FormatInt(merchantID, 10), who, ts))) {
		return Sharer{}, time.Time{}, false
	}
	at := time.Unix(sec, 0).UTC()
	if at.After(now.Add(time.Minute)) || now.Sub(at) > CodeTTL {
		return Sharer{}, time.Time{}, false
	}
	return Sharer{Kind: who[0], ID: id}, at, true
}

// Touch is the attribution cookie's value: the code the viewer opened and
// when, signed so a viewer cannot move the time.
func (g *Signer) Touch(merchantID int64, code string, at time.Time) string {
	ts := strconv.FormatInt(at.UnixMilli(), 36)
	return code + "~" + ts + "~" + g.mac("touch", strconv.FormatInt(merchantID, 10), code, ts)
}

// Touched reads an attribution cookie: the code, if the cookie is genuine,
// the code still verifies and the touch is within Window of now.
func (g *Signer) Touched(merchantID int64, cookie string, now time.Time) (string, bool) {
	if g == nil || len(g.Key) == 0 || len(cookie) > 128 {
		return "", false
	}
	parts := strings.Split(cookie, "~")
	if len(parts) != 3 {
		return "", false
	}
	msec, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil || !hmac.Equal([]byte(parts[2]), []byte(g.mac("touch", strconv.FormatInt(merchantID, 10), parts[0], parts[1]))) {
		return "", false
	}
	at := time.UnixMilli(msec)
	if at.After(now.Add(time.Minute)) || now.Sub(at) > Window {
		return "", false
	}
	if _, _, ok := g.Verify(merchantID, parts[0], at); !ok {
		return "", false
	}
	return parts[0], true
}
