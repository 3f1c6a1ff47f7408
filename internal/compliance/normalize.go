package compliance

import "unicode"

// Writing around the rules. A host who knows the rules writes 能 治 高 血 压,
// 绝.对.有效, puts a zero-width space inside 能​治, or types traditional
// characters (國家級, 全網最低價). normalize undoes that before the scan:
//
//   - zero-width characters (U+200B–U+200D, U+2060, U+FEFF, soft hyphen)
//     are dropped wherever they are;
//   - spaces and the marks people use as spacers (. · • * _ - ~ | / \ ' " `,
//     full-width or not) are dropped when they stand between two Han
//     characters — never between digits or Latin letters, and Chinese
//     sentence punctuation (，。！？；：、) is kept, so clauses stay apart;
//   - traditional characters fold to simplified ones (tradToSimp, one rune
//     to one rune), as full-width ASCII folds to ASCII.
//
// Dropping runes changes offsets, so normalize also returns pos: the index
// in the original text of each kept rune (nil when nothing was dropped, the
// common case), and spans are mapped back through it.

// zeroWidth reports characters that render as nothing.
func zeroWidth(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD:
		return true
	}
	return false
}

// spacer reports a folded rune people put between characters to break a
// word up (after foldRune: full-width forms are ASCII already).
func spacer(r rune) bool {
	switch r {
	case ' ', '\t', '.', '*', '_', '-', '~', '|', '/', '\\', '\'', '"', '`', '+', '=', '^',
		'·', '•', '・', '‧', '∙', '⋅', '—', '–', '…', '“', '”', '‘', '’', '丶':
		return true
	}
	return false
}

func han(r rune) bool { return r >= 0x3400 && (r <= 0x9FFF || unicode.Is(unicode.Han, r)) }

// normalize folds text into rn (appending to buf) and drops what breaks
// words up. pos is nil when no rune was dropped; otherwise pos[i] is the
// rune index in text of rn[i], and pos[len(rn)] is the text's rune count.
func normalize(text string, buf []rune) (rn []rune, pos []int) {
	rn = buf[:0]
	idx := 0      // rune index in text
	pending := -1 // start (in rn) of spacers after a Han character, not yet kept or dropped
	for _, r := range text {
		f := foldRune(r)
		switch {
		case zeroWidth(f):
			pos = startPos(pos, rn)
			idx++
			continue
		case spacer(f):
			if pending < 0 && len(rn) > 0 && han(rn[len(rn)-1]) {
				pending = len(rn)
			}
		default:
			if pending >= 0 && han(f) {
				// the spacers between two Han characters go
				pos = startPos(pos, rn)[:pending]
				rn = rn[:pending]
			}
			pending = -1
		}
		if pos != nil {
			pos = append(pos, idx)
		}
		rn = append(rn, f)
		idx++
	}
	if pos != nil {
		pos = append(pos, idx)
	}
	return rn, pos
}

// startPos makes pos explicit once the first rune is dropped: until then
// each kept rune i was text rune i.
func startPos(pos []int, kept []rune) []int {
	if pos != nil {
		return pos
	}
	pos = make([]int, len(kept), len(kept)+16)
	for i := range pos {
		pos[i] = i
	}
	return pos
}

// fold maps a text to the runes rules compare: ASCII letters lower-cased,
// full-width ASCII (ＡＢＣ１２３％) to half-width, the ideographic space to a
// space, traditional characters to simplified (tradToSimp). One rune in,
// one rune out; Check also drops what breaks words up (normalize).
func fold(s string) []rune {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, foldRune(r))
	}
	return out
}

func foldRune(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	case r == 0x3000:
		return ' '
	case r == '’' || r == '‘':
		return '\'' // world’s best = world's best
	case r >= 0x4E00:
		if s, ok := tradToSimp[r]; ok {
			return s
		}
	}
	return r
}
