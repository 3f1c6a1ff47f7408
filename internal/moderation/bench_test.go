package moderation_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/moderation"
)

// comments is a mix like a live's: questions, short cheers, prices and
// quantities, and now and then a contact detail.
var comments = []string{
	"草莓甜吗？多少钱一斤", "666", "主播好漂亮", "买2盒送1盒吗 29.9元", "什么时候发货", "有没有无糖的",
	"已下单 订单号 SL202612070001234", "好吃！回购了", "我要一份", "冷链到上海几天", "加微信 abc_12345 便宜",
	"孩子能吃吗", "还有货吗", "保质期多久", "138 1234 5678 联系我", "这个和超市的比怎么样",
}

// bigList is a word list at the limit (2,000 terms).
func bigList() []moderation.Word {
	words := make([]moderation.Word, 0, moderation.MaxWords)
	for i := range moderation.MaxWords {
		action := moderation.ActionBlock
		if i%10 == 0 {
			action = moderation.ActionMask
		}
		words = append(words, moderation.Word{Term: string(rune(0x4e00+i%500)) + string(rune(0x4e00+(i*7)%997)) + strconv.Itoa(i), Action: action})
	}
	return words
}

// BenchmarkScreen is the merchant part of the comment check: the word list
// (2,000 terms) and the contact signals, per comment.
func BenchmarkScreen(b *testing.B) {
	set := moderation.NewWordSet(bigList())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		text := comments[i%len(comments)]
		if block, _ := set.Match(text); block == "" {
			moderation.Contact(text)
		}
	}
}

// BenchmarkCommentCheck is the whole in-memory check a viewer's comment
// goes through in app.PostComment: the shared filter (live.Moderator:
// invisible characters, length, default words, links, repeats, floods),
// then the merchant's 2,000 words and the contact signals. (The mute/ban
// lookup is one indexed query, as the room-ban check it replaced was.)
func BenchmarkCommentCheck(b *testing.B) {
	m := &live.Moderator{Blocked: live.DefaultBlocked, MinGap: 500 * time.Millisecond}
	set := moderation.NewWordSet(bigList())
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		user := "c" + strconv.Itoa(i%5000)
		text, err := m.Check(user, comments[i%len(comments)], false, t0.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			continue
		}
		if block, _ := set.Match(text); block == "" {
			moderation.Contact(text)
		}
	}
}

func ExampleContact() {
	fmt.Println(moderation.Contact("vx：shop888"), moderation.Contact("草莓多少钱"))
	// Output: wechat
}

// BenchmarkSharedFilterOnly is the check before moderation existed
// (live.Moderator alone), the baseline BenchmarkCommentCheck is read
// against.
func BenchmarkSharedFilterOnly(b *testing.B) {
	m := &live.Moderator{Blocked: live.DefaultBlocked, MinGap: 500 * time.Millisecond}
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		user := "c" + strconv.Itoa(i%5000)
		m.Check(user, comments[i%len(comments)], false, t0.Add(time.Duration(i)*time.Millisecond))
	}
}
