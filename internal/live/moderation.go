package live

import (
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Moderator filters comments before they fan out: length, blocked words,
// links, repeats and per-user flooding. It is cheap and in memory; bans and
// deletes are stored.
type Moderator struct {
	Blocked []string      // lower-case substrings that reject a comment
	MinGap  time.Duration // per user between comments
	mu      sync.Mutex
	last    map[string]lastComment
}

type lastComment struct {
	at   time.Time
	body string
}

// DefaultBlocked are words no food room needs: abuse, scams and the absolute
// claims the advertising law forbids.
var DefaultBlocked = []string{"加微信", "加v", "vx:", "刷单", "傻逼", "fuck", "赌博"}

var linkRE = regexp.MustCompile(`(?i)(https?://|www\.|\.com\b|\.cn\b|t\.me/)`)

// Comment errors.
var (
	ErrCommentEmpty   = apperr.InvalidField("text", "comment_empty", "评论不能为空", "Comment is empty.")
	ErrCommentLong    = apperr.InvalidField("text", "comment_too_long", "评论最多100字", "Comments are at most 100 characters.")
	ErrCommentBlocked = apperr.InvalidField("text", "comment_blocked", "评论包含不允许的内容", "The comment contains words that are not allowed.")
	ErrCommentLink    = apperr.InvalidField("text", "comment_link", "评论中不能包含链接", "Links are not allowed in comments.")
	ErrCommentRepeat  = apperr.New(apperr.TooMany, "comment_repeat", "请不要重复发送相同内容", "Please don't repeat the same comment.")
	ErrCommentFlood   = apperr.New(apperr.TooMany, "comment_rate_limited", "发言太快了，请稍等", "You are commenting too fast.")
	ErrBanned         = apperr.New(apperr.Forbidden, "banned", "你已被禁言", "You have been muted in this room.")
)

// stripInvisible drops control and zero-width characters (they hide words
// from the blocked list and break layouts), except a zero-width joiner
// between two emoji: 👨‍👩‍👧 and 🧑‍🍳 are one picture made of several
// emoji joined by U+200D, and without it they fall apart.
func stripInvisible(text string) string {
	rs := []rune(text)
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		if r == 0x200d && len(out) > 0 && i+1 < len(rs) && emojiPart(out[len(out)-1]) && emojiPart(rs[i+1]) {
			out = append(out, r)
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x200b && r <= 0x200f) || r == 0xfeff { // control and zero-width characters
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// emojiPart is a rune that may sit on either side of a joiner in an emoji
// sequence: pictographs, symbols, skin tones, the emoji presentation selector.
func emojiPart(r rune) bool {
	return (r >= 0x1f000 && r <= 0x1faff) || (r >= 0x2600 && r <= 0x27bf) || r == 0xfe0f || r == 0x2640 || r == 0x2642 || r == 0x2695 || r == 0x2696 || r == 0x2708 || r == 0x2764 || r == 0x2b1b || r == 0x2b50
}

// Check cleans text and returns an error when the comment must not be shown.
func (m *Moderator) Check(user, text string, staff bool, now time.Time) (string, error) {
	text = strings.TrimSpace(stripInvisible(text))
	if text == "" {
		return "", ErrCommentEmpty
	}
	if utf8.RuneCountInString(text) > 100 {
		return "", ErrCommentLong
	}
	if staff {
		return text, nil
	}
	lower := strings.ToLower(text)
	for _, w := range m.Blocked {
		if strings.Contains(lower, w) {
			return "", ErrCommentBlocked
		}
	}
	if linkRE.MatchString(text) {
		return "", ErrCommentLink
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]lastComment{}
	}
	prev, ok := m.last[user]
	if ok && now.Sub(prev.at) < m.MinGap {
		return "", ErrCommentFlood
	}
	if ok && prev.body == text && now.Sub(prev.at) < 30*time.Second {
		return "", ErrCommentRepeat
	}
	m.last[user] = lastComment{at: now, body: text}
	if len(m.last) > 100_000 { // forget old entries so memory stays bounded
		for k, v := range m.last {
			if now.Sub(v.at) > time.Minute {
				delete(m.last, k)
			}
		}
	}
	return text, nil
}
