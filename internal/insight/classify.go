package insight

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CatalogProduct is what the classifier knows of a product: its names,
// the merchant's aliases ("1号", "黄色那杯"), specs and SKU names.
type CatalogProduct struct {
	ID      int64
	Name    string
	NameEN  string
	Aliases []string
	Specs   string
	SKUs    []CatalogSKU
}

// CatalogSKU is a variant by name ("抹茶味", "6瓶装").
type CatalogSKU struct {
	ID   int64
	Name string
}

// Result is what one comment is about.
type Result struct {
	Intent    Intent    `json:"intent"`
	ProductID *int64    `json:"product_id"`
	SKUID     *int64    `json:"sku_id,omitempty"`
	Sentiment Sentiment `json:"sentiment"`
}

// key is a string that names a product (weight: how sure it is).
type key struct {
	text    string
	runes   int
	product int64
	sku     int64
	weight  int
}

// Index is a catalogue prepared for attribution: every name, alias, name
// word and SKU name that points at exactly one product. Words that two
// products share ("乌龙", "生巧") name neither.
type Index struct {
	keys     []key
	products map[int64]bool
}

// genericWords are name words that say nothing about which product.
var genericWords = map[string]bool{"礼盒": true, "盒装": true, "新品": true, "特惠": true, "装": true, "盒": true, "个": true, "只": true}

// BuildIndex prepares products for attribution; seg (loaded) splits names
// into words and learns the catalogue's words. seg may be nil (names and
// aliases only).
func BuildIndex(seg *Segmenter, products []CatalogProduct) *Index {
	return buildIndex(seg, products, true)
}

// buildIndex is BuildIndex; learn=false leaves seg's dictionary alone: the
// corpus catalogue masks the training comments as a merchant's catalogue
// masks theirs, but its product names must not enter the shared
// segmenter that cuts the merchants' comments.
func buildIndex(seg *Segmenter, products []CatalogProduct, learn bool) *Index {
	ix := &Index{products: map[int64]bool{}}
	owners := map[string]map[int64]bool{}
	cand := map[string]key{}
	add := func(text string, p, sku int64, weight int) {
		text = normalize(text)
		n := utf8.RuneCountInString(text)
		if n == 0 || (n < 2 && !isHan(text)) || genericWords[text] || isDigits(text) && n < 3 {
			return
		}
		if owners[text] == nil {
			owners[text] = map[int64]bool{}
		}
		owners[text][p] = true
		if k, ok := cand[text]; !ok || weight > k.weight {
			cand[text] = key{text: text, runes: n, product: p, sku: sku, weight: weight}
		}
	}
	var words []string
	for _, p := range products {
		ix.products[p.ID] = true
		add(p.Name, p.ID, 0, 3)
		add(p.NameEN, p.ID, 0, 3)
		for _, a := range p.Aliases {
			add(a, p.ID, 0, 3)
		}
		if seg != nil {
			for _, w := range seg.CutName(p.Name) {
				rs := []rune(w)
				if len(rs) >= 2 {
					add(w, p.ID, 0, 1)
				}
				if len(rs) >= 3 && isHan(w) {
					add(string(rs[len(rs)-2:]), p.ID, 0, 1) // the head noun: 鲜牛奶 → 牛奶, 土鸡蛋 → 鸡蛋
				}
			}
		}
		for _, k := range p.SKUs {
			add(k.Name, p.ID, k.ID, 2)
			for _, w := range strings.Fields(k.Name) {
				add(w, p.ID, k.ID, 1)
			}
			words = append(words, k.Name)
		}
		words = append(words, p.Name, p.Specs)
		words = append(words, p.Aliases...)
	}
	for text, k := range cand {
		if len(owners[text]) == 1 {
			ix.keys = append(ix.keys, k)
		}
	}
	sort.Slice(ix.keys, func(i, j int) bool {
		if ix.keys[i].runes != ix.keys[j].runes {
			return ix.keys[i].runes > ix.keys[j].runes
		}
		return ix.keys[i].text < ix.keys[j].text
	})
	if seg != nil && learn {
		seg.AddWords(words)
	}
	return ix
}

// Has reports whether the product is one of the index's candidates.
func (ix *Index) Has(id int64) bool { return ix.products[id] }

// Classify reads one comment: its intent, the product (named, or what was
// pinned when it was written) and its sentiment. seg (loaded) may be nil.
func (ix *Index) Classify(seg *Segmenter, text string, pinned int64) Result {
	return ix.classify(trainedModel(seg), seg, text, pinned)
}

func (ix *Index) classify(m *intentModel, seg *Segmenter, text string, pinned int64) Result {
	c := prepare(ix, seg, text)
	norm, intent := c.norm, c.rule
	if intent != Spam { // the spam patterns are exact; everything else is the model's
		intent = m.intent(c)
	}
	r := Result{Intent: intent, Sentiment: sentimentOf(intent, norm)}
	if intent == Spam || intent == Chitchat {
		return r
	}
	pid, sku, several := ix.attribute(norm)
	switch {
	case pid != 0:
		r.ProductID = &pid
		if sku != 0 {
			r.SKUID = &sku
		}
	case several || containsAny(norm, comparePhrases) || containsAny(norm, roomPhrases):
		// several products, or the live itself: nobody's in particular
	case pinned != 0 && ix.products[pinned]:
		r.ProductID = &pinned
	}
	return r
}

// About is the product a host's comment is about, whatever its intent:
// the one named, else the pinned card (a host talks about what is shown).
func (ix *Index) About(text string, pinned int64) int64 {
	if pid, _, several := ix.attribute(normalize(text)); pid != 0 || several {
		return pid
	}
	if ix.products[pinned] {
		return pinned
	}
	return 0
}

// attribute finds the product the comment names: longest keys first, each
// part of the text used once. Two products named equally is "several".
func (ix *Index) attribute(norm string) (product, sku int64, several bool) {
	scores := map[int64]int{}
	skus := map[int64]int64{}
	work := norm
	for _, k := range ix.keys {
		i := strings.Index(work, k.text)
		if i < 0 {
			continue
		}
		work = work[:i] + strings.Repeat(" ", len(k.text)) + work[i+len(k.text):]
		scores[k.product] += k.weight * k.runes
		if k.sku != 0 && skus[k.product] == 0 {
			skus[k.product] = k.sku
		}
	}
	best, second := 0, 0
	for p, s := range scores {
		switch {
		case s > best:
			second, best, product = best, s, p
		case s > second:
			second = s
		}
	}
	if len(scores) > 1 && best < 2*second {
		return 0, 0, true // two products named about as clearly: a comparison
	}
	return product, skus[product], false
}

var (
	tryRE     = regexp.MustCompile(`[吃喝试尝].{0,3}看看`)
	stockRE   = regexp.MustCompile(`多[大重长高]|还剩|还能买`)
	singleAsk = map[rune]Intent{'甜': AskTaste, '酸': AskTaste, '苦': AskTaste, '脆': AskTaste, '软': AskTaste, '浓': AskTaste, '腥': AskTaste,
		'腻': AskTaste, '膏': AskTaste, '价': AskPrice, '券': AskPrice, '寄': AskShipping, '剩': AskStockSize, '够': AskStockSize}
)

// intentOf is the rules' answer: spam, then complaints, then questions
// (the topic named first wins), then buying, praise and small talk.
// matched is false when no phrase matched and the answer is a default.
func intentOf(norm string, tokens []string, st states) (in Intent, matched bool) {
	if spamRE.MatchString(norm) {
		return Spam, true
	}
	if containsAny(norm, complaintPhrases) || st.bad {
		return Complaint, true
	}
	rs := []rune(norm)
	question := questionRE.MatchString(norm) || aNotA(rs) || strings.Contains(norm, "还是") || stockRE.MatchString(norm)
	if question || containsAny(norm, askGroups[0].phrases) {
		if in, ok := firstAsk(norm, tokens); ok {
			return in, true
		}
	}
	switch {
	case tryRE.MatchString(norm):
		return AskOther, true
	case containsAny(norm, []string{"好想"}):
		return Praise, true
	case containsAny(norm, purchasePhrases):
		return Purchase, true
	case containsAny(norm, chitchatPhrases):
		return Chitchat, true
	case st.fine && !st.asked: // "还是冰的" is no "A还是B" question
		return Praise, true
	case question:
		return AskOther, false
	case containsAny(norm, praisePhrases) || strings.Contains(norm, "超级甜"):
		return Praise, true
	}
	return Chitchat, false
}

// firstAsk finds the question topic named earliest in the comment. Phrases
// match anywhere; single-character cues (甜, 价, 寄 …) only as the start of
// a word the segmenter cut, so 评价 is no price question and 香精 no taste.
func firstAsk(norm string, tokens []string) (Intent, bool) {
	best, pos := Intent(""), len(norm)+1
	for gi, g := range askGroups {
		for _, p := range g.phrases {
			if i := strings.Index(norm, p); i >= 0 && (i < pos || i == pos && gi == 0) {
				best, pos = g.intent, i
			}
		}
	}
	if i := stockRE.FindStringIndex(norm); i != nil && i[0] < pos {
		best, pos = AskStockSize, i[0]
	}
	at := 0
	for _, tok := range tokens {
		i := strings.Index(norm[at:], tok)
		if i < 0 {
			continue
		}
		i += at
		at = i + len(tok)
		r, _ := utf8.DecodeRuneInString(tok)
		if in, ok := singleAsk[r]; ok && i < pos {
			best, pos = in, i
		}
	}
	if tokens == nil { // no segmenter: single cues anywhere
		for i, r := range norm {
			if in, ok := singleAsk[r]; ok && i < pos {
				best, pos = in, i
			}
		}
	}
	return best, best != ""
}

func sentimentOf(in Intent, norm string) Sentiment {
	switch in {
	case Purchase, Praise:
		return Pos
	case Complaint:
		return Neg
	case Chitchat:
		if containsAny(norm, posPhrases) {
			return Pos
		}
	}
	return Neu
}

// normalize lowers Latin letters, folds full-width forms and trims.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '！' && r <= '～':
			r -= 0xFEE0
		case r == '\u3000':
			r = ' '
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func isHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
