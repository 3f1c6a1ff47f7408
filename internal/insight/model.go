package insight

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The word lists in lexicon.go are precise but only know the phrasings
// they were written for: on comments written after them they got two
// intents in three right. The intent model below learns from labelled
// comments instead (corpus/*.tsv), over character n-grams, so "囤一箱"
// or "发霉了" count even when no list has them. Rules and model vote
// (Classify): a rule's phrase match is strong evidence, a rule's fallback
// (no phrase matched) is none, and then the model decides.

//go:embed corpus/*.tsv corpus/catalog.json
var corpusFS embed.FS

// productMark stands in for every product name or alias in a comment, so
// the model learns "□多少钱" once for every product, including ones the
// corpus never saw.
const productMark = "□"

// ruleWeight is how much a rule's phrase match adds to the model's
// probability for that intent. Chosen on testdata/heldout.tsv (the
// development set); the other held-out sets were never used to choose it.
const ruleWeight = 0.7

type intentModel struct {
	features map[string]int32
	weights  [][]float32 // [feature][intent]
	bias     []float32
}

var (
	modelOnce sync.Once
	model     *intentModel
)

// trainedModel trains the intent model once, on first use (a few tens of
// milliseconds for the embedded corpus).
func trainedModel() *intentModel {
	modelOnce.Do(func() { model = trainIntentModel(loadCorpus()) })
	return model
}

type labelled struct {
	text   string
	intent int
}

// loadCorpus reads the embedded labelled comments, masking the corpus
// catalogue's product names the way Classify masks a merchant's.
func loadCorpus() []labelled {
	raw, err := corpusFS.ReadFile("corpus/catalog.json")
	if err != nil {
		panic(err) // embedded at build time
	}
	var cat []struct {
		Name    string   `json:"name"`
		NameEN  string   `json:"name_en"`
		Aliases []string `json:"aliases"`
		SKUs    []string `json:"skus"`
	}
	if err := json.Unmarshal(raw, &cat); err != nil {
		panic(err)
	}
	var products []CatalogProduct
	for i, p := range cat {
		cp := CatalogProduct{ID: int64(i + 1), Name: p.Name, NameEN: p.NameEN, Aliases: p.Aliases}
		for j, s := range p.SKUs {
			cp.SKUs = append(cp.SKUs, CatalogSKU{ID: int64(j + 1), Name: s})
		}
		products = append(products, cp)
	}
	ix := BuildIndex(nil, products)
	index := map[Intent]int{}
	for i, in := range Intents {
		index[in] = i
	}
	files, _ := corpusFS.ReadDir("corpus")
	var out []labelled
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".tsv") {
			continue
		}
		b, _ := corpusFS.ReadFile("corpus/" + f.Name())
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			c := strings.Split(line, "\t")
			in, ok := index[Intent(c[3])]
			if len(c) != 5 || !ok {
				continue
			}
			out = append(out, labelled{text: ix.mask(normalize(c[1])), intent: in})
		}
	}
	return out
}

// mask replaces every product key in the comment with productMark.
func (ix *Index) mask(norm string) string {
	for _, k := range ix.keys {
		if strings.Contains(norm, k.text) {
			norm = strings.ReplaceAll(norm, k.text, productMark)
		}
	}
	return norm
}

var digitsRE = regexp.MustCompile(`[0-9]+`)

// featuresOf lists a masked comment's features: character 1-, 2- and
// 3-grams (digits folded to 0, edges marked) and whether it reads as a
// question.
func featuresOf(masked string) []string {
	s := digitsRE.ReplaceAllString(masked, "0")
	s = strings.Join(strings.Fields(s), "_")
	rs := []rune("^" + s + "$")
	out := make([]string, 0, 3*len(rs)+2)
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(rs); i++ {
			g := string(rs[i : i+n])
			if g == "^" || g == "$" {
				continue
			}
			out = append(out, g)
		}
	}
	if questionRE.MatchString(masked) || aNotA([]rune(masked)) {
		out = append(out, "\x00question")
	}
	return out
}

// trainIntentModel fits a softmax regression with L2 by stochastic
// gradient descent in a fixed order (same corpus, same model).
func trainIntentModel(data []labelled) *intentModel {
	m := &intentModel{features: map[string]int32{}, bias: make([]float32, len(Intents))}
	feats := make([][]int32, len(data))
	for i, d := range data {
		seen := map[int32]bool{}
		for _, f := range featuresOf(d.text) {
			id, ok := m.features[f]
			if !ok {
				id = int32(len(m.features))
				m.features[f] = id
				m.weights = append(m.weights, make([]float32, len(Intents)))
			}
			if !seen[id] {
				seen[id] = true
				feats[i] = append(feats[i], id)
			}
		}
	}
	const (
		epochs = 60
		rate   = 0.5
		l2     = 1e-5
	)
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(7, 11))
	probs := make([]float64, len(Intents))
	for e := 0; e < epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := rate / (1 + 0.1*float64(e))
		for _, i := range order {
			scale := float32(1 / math.Sqrt(float64(len(feats[i])+1)))
			m.probabilities(feats[i], scale, probs)
			for c := range Intents {
				g := probs[c]
				if c == data[i].intent {
					g--
				}
				step := float32(lr * g)
				m.bias[c] -= step
				for _, f := range feats[i] {
					w := m.weights[f]
					w[c] -= step*scale + float32(lr*l2)*w[c]
				}
			}
		}
	}
	return m
}

// probabilities fills out with the softmax over intents for the features.
func (m *intentModel) probabilities(feats []int32, scale float32, out []float64) {
	maxv := math.Inf(-1)
	for c := range out {
		v := float64(m.bias[c])
		for _, f := range feats {
			v += float64(m.weights[f][c] * scale)
		}
		out[c] = v
		maxv = math.Max(maxv, v)
	}
	var sum float64
	for c := range out {
		out[c] = math.Exp(out[c] - maxv)
		sum += out[c]
	}
	for c := range out {
		out[c] /= sum
	}
}

// predict gives the probability of each intent (in Intents' order) for a
// masked comment.
func (m *intentModel) predict(masked string) []float64 {
	var ids []int32
	seen := map[int32]bool{}
	for _, f := range featuresOf(masked) {
		if id, ok := m.features[f]; ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	out := make([]float64, len(Intents))
	m.probabilities(ids, float32(1/math.Sqrt(float64(len(ids)+1))), out)
	return out
}

// vote combines the model's probabilities with the rules' answer: a rule
// that matched a phrase adds ruleWeight to its intent; a rule that fell
// through to its default adds nothing.
func vote(probs []float64, rule Intent, ruleMatched bool) Intent {
	type scored struct {
		in Intent
		p  float64
	}
	s := make([]scored, len(Intents))
	for c, in := range Intents {
		s[c] = scored{in, probs[c]}
		if ruleMatched && in == rule {
			s[c].p += ruleWeight
		}
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].p > s[j].p })
	return s[0].in
}
