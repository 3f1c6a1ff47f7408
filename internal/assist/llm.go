package assist

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shelflive/shelflive/internal/compliance"
)

// Model is a language model that answers one system and one user message;
// internal/llm talks to OpenAI-compatible endpoints.
type Model interface {
	Complete(ctx context.Context, system, user string) (string, error)
}

// SystemPrompt tells the model the rules: answer only from the numbered
// facts, cite them as [n], no health or absolute claims.
const SystemPrompt = `你是食品零售直播间的主播助手。只根据用户消息里编号的“事实”回答观众的问题，用一两句口语化的中文，60字以内。
每句话都要用 [编号] 标注所依据的事实，例如“配料只有生牛乳[3]”。事实里没有的信息就说“我们确认后回复您”，不要编造。
不得使用绝对化用语（最、第一、国家级等），不得声称任何预防、治疗疾病或保健功能，不得承诺效果。`

// Prompt is the user message: the question and the numbered facts.
func Prompt(question, productName string, facts []Fact) string {
	var b strings.Builder
	if productName != "" {
		b.WriteString("商品：" + productName + "\n")
	}
	b.WriteString("事实：\n")
	for i, f := range facts {
		fmt.Fprintf(&b, "[%d] %s：%s\n", i+1, f.Label, f.Value)
	}
	b.WriteString("观众问题：" + question)
	return b.String()
}

var citeRE = regexp.MustCompile(`\[(\d{1,2})\]`)
var numberRE = regexp.MustCompile(`\d+(?:\.\d+)?`)

// Grounded checks a model answer against the facts it was given: it must
// cite at least one fact that exists, and every number it states must
// appear in a fact (a model that invents a price or a date is not shown).
// It returns the answer without the [n] markers and the facts cited.
func Grounded(answer string, facts []Fact) (string, []Fact, error) {
	var cites []Fact
	seen := map[int]bool{}
	for _, m := range citeRE.FindAllStringSubmatch(answer, -1) {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > len(facts) {
			return "", nil, fmt.Errorf("cites fact [%d], which does not exist", n)
		}
		if !seen[n] {
			seen[n] = true
			cites = append(cites, facts[n-1])
		}
	}
	if len(cites) == 0 {
		return "", nil, errors.New("cites no fact")
	}
	text := strings.TrimSpace(citeRE.ReplaceAllString(answer, ""))
	var all strings.Builder
	for _, f := range facts {
		all.WriteString(f.Value + " ")
	}
	for _, num := range numberRE.FindAllString(text, -1) {
		if !strings.Contains(all.String(), num) {
			return "", nil, fmt.Errorf("states %s, which no fact says", num)
		}
	}
	return text, cites, nil
}

// Suggest answers a viewer's question: the offline template, or — with a
// model — the model's wording when it cites existing facts, states no
// number the facts do not, and passes the compliance review (no blocking
// finding); otherwise the template, with the reason in Fallback.
func Suggest(ctx context.Context, model Model, rules *compliance.Ruleset, question, productName string, facts []Fact) Suggestion {
	in := compliance.Input{Context: compliance.CtxComment, ProductType: compliance.OrdinaryFood}
	tpl := Answer(question, productName, facts)
	tpl.Compliance = rules.Check(tpl.Text, in)
	if model == nil || len(facts) == 0 {
		return tpl
	}
	reply, err := model.Complete(ctx, SystemPrompt, Prompt(question, productName, facts))
	if err != nil {
		tpl.Fallback = "model: " + err.Error()
		return tpl
	}
	text, cites, err := Grounded(reply, facts)
	if err != nil {
		tpl.Fallback = "model answer " + err.Error()
		return tpl
	}
	res := rules.Check(text, in)
	if res.Blocking() {
		for _, f := range res.Findings {
			if f.Severity == compliance.Block {
				tpl.Fallback = "model answer broke " + f.Rule + " (" + f.Match + ")"
				break
			}
		}
		return tpl
	}
	return Suggestion{Text: text, Cites: cites, Source: "llm", Compliance: res}
}
