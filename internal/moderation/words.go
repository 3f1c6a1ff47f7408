package moderation

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Word actions.
const (
	ActionBlock = "block" // the comment is refused (comment_blocked)
	ActionMask  = "mask"  // the word is shown as ＊＊ and the comment goes out
)

// Word is one entry of a merchant's word list.
type Word struct {
	Term   string `json:"term"`
	Action string `json:"action"`
}

// Limits of a word list.
const (
	MaxWords    = 2000
	MaxWordRune = 30
)

// Word list errors.
var (
	ErrInvalidWord  = apperr.InvalidField("words", "invalid_word", "词条无效", "Invalid word.")
	ErrTooManyWords = apperr.InvalidField("words", "too_many_words", "词库最多 2000 条", "A word list holds at most 2,000 words.")
)

// Normalize is what word matching compares: lower case, full-width ASCII
// as half-width, and no spaces, punctuation or symbols, so 加 微 信, 加·微·信
// and ＶＸ match 加微信 and vx.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 0x4e00 && r <= 0x9fff: // CJK ideographs, most of a comment: as they are
			b.WriteRune(r)
			continue
		case r < 0x80: // ASCII without the unicode tables
			switch {
			case r >= 'A' && r <= 'Z':
				b.WriteByte(byte(r) + 'a' - 'A')
			case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteByte(byte(r))
			}
			continue
		case r >= 0xff01 && r <= 0xff5e: // full-width ASCII
			r -= 0xfee0
		}
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == 0x200b || r == 0xfeff {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// CleanWords checks and tidies a word list: terms trimmed, actions
// defaulted to block, duplicates (by normalized term) dropped, sorted.
func CleanWords(in []Word) ([]Word, error) {
	seen := map[string]bool{}
	out := make([]Word, 0, len(in))
	for i, w := range in {
		w.Term = strings.TrimSpace(w.Term)
		w.Action = strings.ToLower(strings.TrimSpace(w.Action))
		if w.Action == "" {
			w.Action = ActionBlock
		}
		n := Normalize(w.Term)
		at := fmt.Sprintf("words[%d]", i)
		if n == "" || utf8.RuneCountInString(w.Term) > MaxWordRune {
			return nil, ErrInvalidWord.At(at).With(fmt.Sprintf("第 %d 条：词条须为 1 到 %d 个字（不计标点）", i+1, MaxWordRune), fmt.Sprintf("Entry %d: a term has 1 to %d characters (punctuation aside).", i+1, MaxWordRune))
		}
		if w.Action != ActionBlock && w.Action != ActionMask {
			return nil, ErrInvalidWord.At(at).With(fmt.Sprintf("第 %d 条：处理方式须为 block 或 mask", i+1), fmt.Sprintf("Entry %d: action must be block or mask.", i+1))
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, w)
	}
	if len(out) > MaxWords {
		return nil, ErrTooManyWords
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Term < out[j].Term })
	return out, nil
}

// ParseWords reads a word list as plain text (one term a line) or CSV
// (term[,action], an optional header row "term,action" or "词条,处理"). Lines
// starting with # and empty lines are skipped. A UTF-8 BOM (Excel) is fine.
func ParseWords(data []byte) ([]Word, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, ErrInvalidWord.With("文件须为 UTF-8 编码", "The file must be UTF-8.")
	}
	var words []Word
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		term, action := line, ""
		if strings.Contains(line, ",") || strings.HasPrefix(line, `"`) {
			rec, err := csv.NewReader(strings.NewReader(line)).Read()
			if err != nil || len(rec) == 0 || len(rec) > 2 {
				return nil, ErrInvalidWord.With("CSV 每行为：词条,处理方式", "Each CSV row is: term,action.")
			}
			term = rec[0]
			if len(rec) == 2 {
				action = rec[1]
			}
		}
		if first {
			first = false
			h := strings.ToLower(strings.TrimSpace(term))
			if h == "term" || h == "word" || h == "词条" || h == "敏感词" {
				continue
			}
		}
		words = append(words, Word{Term: term, Action: action})
		if len(words) > MaxWords*2 {
			return nil, ErrTooManyWords
		}
	}
	return CleanWords(words)
}

// WriteCSV writes a word list as CSV with a header (UTF-8, no BOM).
func WriteCSV(w io.Writer, words []Word) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"term", "action"})
	for _, x := range words {
		cw.Write([]string{x.Term, x.Action})
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes a word list one term a line; masked terms carry
// ",mask" and a term with a comma or quote is quoted as in CSV, so the
// file reads back the same.
func WriteText(w io.Writer, words []Word) error {
	bw := bufio.NewWriter(w)
	for _, x := range words {
		term := x.Term
		if strings.ContainsAny(term, `,"`) || strings.HasPrefix(term, "#") {
			term = `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
		}
		bw.WriteString(term)
		if x.Action == ActionMask {
			bw.WriteString(",mask")
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WordSet matches a merchant's words against comments. Terms are indexed
// by their first rune, so a check costs one map lookup per rune of the
// comment plus a prefix compare per candidate, however long the list.
type WordSet struct {
	byFirst map[rune][]entry
	n       int
}

type entry struct {
	norm   string
	term   string
	action string
}

// NewWordSet indexes words (already cleaned).
func NewWordSet(words []Word) *WordSet {
	s := &WordSet{byFirst: map[rune][]entry{}}
	for _, w := range words {
		n := Normalize(w.Term)
		if n == "" {
			continue
		}
		r, _ := utf8.DecodeRuneInString(n)
		s.byFirst[r] = append(s.byFirst[r], entry{norm: n, term: w.Term, action: w.Action})
		s.n++
	}
	return s
}

// Len is the number of terms in the set.
func (s *WordSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Match reports what the words say about text: the first blocking term
// found (block), or else the masking terms present.
func (s *WordSet) Match(text string) (block string, mask []string) {
	if s == nil || s.n == 0 {
		return "", nil
	}
	norm := Normalize(text)
	for i, r := range norm {
		for _, e := range s.byFirst[r] {
			if strings.HasPrefix(norm[i:], e.norm) {
				if e.action == ActionBlock {
					return e.term, nil
				}
				mask = append(mask, e.term)
			}
		}
	}
	return "", mask
}

// Mask replaces each term in text (case-insensitively, as written) with
// one ＊ per character. It reports false when a term matched only through
// normalization (spaced or punctuated out) and could not be masked: the
// caller then refuses the comment instead.
func Mask(text string, terms []string) (string, bool) {
	ok := true
	for _, t := range terms {
		lt := strings.ToLower(t)
		lower := strings.ToLower(text)
		if len(lower) != len(text) { // a case change that resizes: keep it simple
			return text, false
		}
		i := strings.Index(lower, lt)
		if i < 0 {
			ok = false
			continue
		}
		stars := strings.Repeat("＊", utf8.RuneCountInString(t))
		for i >= 0 {
			text = text[:i] + stars + text[i+len(t):]
			lower = strings.ToLower(text)
			i = strings.Index(lower, lt)
		}
	}
	return text, ok
}
