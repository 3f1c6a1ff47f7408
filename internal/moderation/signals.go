package moderation

import (
	"regexp"
	"strings"
	"unicode"
)

// Spam signals a comment is checked for besides the shared filter
// (live.Moderator: links, repeats within 30 s, floods under MinGap).
const (
	SignalPhone  = "phone"  // a mainland mobile number, however spaced or written
	SignalWeChat = "wechat" // a WeChat (or QQ) ID offered for a private deal
)

// digitOf maps the ways a digit gets written to dodge filters: full-width,
// Chinese numerals (一…九, 〇/零, 壹…玖), circled ①…⑨.
func digitOf(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte(r - '０' + '0'), true
	case r >= '①' && r <= '⑨':
		return byte(r - '①' + '1'), true
	}
	switch r {
	case '〇', '零':
		return '0', true
	case '一', '壹', '幺':
		return '1', true
	case '二', '贰', '两':
		return '2', true
	case '三', '叁':
		return '3', true
	case '四', '肆':
		return '4', true
	case '五', '伍':
		return '5', true
	case '六', '陆':
		return '6', true
	case '七', '柒':
		return '7', true
	case '八', '捌':
		return '8', true
	case '九', '玖':
		return '9', true
	}
	return 0, false
}

// separator is what people put between digits of a number they want read.
func separator(r rune) bool {
	return r == ' ' || r == '-' || r == '.' || r == '·' || r == '_' || r == '/' || r == '—' || r == '－' || r == '　' || r == '+' || r == '＋'
}

// hasMobile finds a mainland mobile number: 11 digits 1[3-9]…, or 13 with
// the 86 prefix, with separators allowed between digits. Longer digit runs
// (order numbers, tracking numbers) are not phone numbers.
func hasMobile(text string) bool {
	var run []byte
	check := func() bool {
		n := len(run)
		if n == 13 && run[0] == '8' && run[1] == '6' {
			run = run[2:]
			n = 11
		}
		return n == 11 && run[0] == '1' && run[1] >= '3' && run[1] <= '9'
	}
	for _, r := range text {
		if d, ok := digitOf(r); ok {
			run = append(run, d)
			continue
		}
		if separator(r) && len(run) > 0 {
			continue
		}
		if check() {
			return true
		}
		run = run[:0]
	}
	return check()
}

// wechatRE finds an ID offered after a WeChat or QQ keyword (微信号 abc_123,
// vx：abc12345, 扣扣 12345678) and raw wxid_ ids, on lower-cased text.
var wechatRE = regexp.MustCompile(`(?:微信|威信|薇信|徽信|维信|v信|vx|wx|weixin|wechat|加v|qq|扣扣|企鹅)\s*(?:号|id)?\s*[:：=]?\s*(?:[a-z][a-z0-9_-]{5,19}|[0-9]{5,12})|wxid_[a-z0-9]{4,}`)

// quickContact is a cheap pre-check: no digit, no Latin letter and no
// 微/威/薇/徽/维/扣/企 means no contact detail, and most comments stop here.
func quickContact(text string) bool {
	for _, r := range text {
		if r < 0x80 {
			if (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z') {
				return true
			}
			continue
		}
		if _, ok := digitOf(r); ok {
			return true
		}
		switch r {
		case '微', '威', '薇', '徽', '维', '扣', '企', 'ｖ', 'Ｖ', 'ｗ', 'Ｗ':
			return true
		}
	}
	return false
}

// Contact returns the contact-detail signal a comment carries (SignalPhone,
// SignalWeChat) or "".
func Contact(text string) string {
	if !quickContact(text) {
		return ""
	}
	if hasMobile(text) {
		return SignalPhone
	}
	lower := strings.Map(func(r rune) rune {
		if r >= 0xff01 && r <= 0xff5e {
			r -= 0xfee0
		}
		return unicode.ToLower(r)
	}, text)
	if hasKeyword(lower) && wechatRE.MatchString(lower) {
		return SignalWeChat
	}
	return ""
}

// contactKeywords are the words wechatRE starts at; a comment with none of
// them skips the regular expression (most comments).
var contactKeywords = []string{"微信", "威信", "薇信", "徽信", "维信", "v信", "vx", "wx", "weixin", "wechat", "加v", "qq", "扣扣", "企鹅"}

func hasKeyword(lower string) bool {
	for _, k := range contactKeywords {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}
