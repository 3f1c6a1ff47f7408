package insight

import (
	"regexp"
	"strings"
)

// The words below are what live-room viewers of a food shop type. They
// were written for ShelfLive's comment insights (the evaluation set in
// corpus/eval.tsv measures them); merchants tune attribution with product
// aliases, not by editing these lists.

// domainWords join gse's general dictionary so the shop's vocabulary comes
// out as whole words.
var domainWords = []string{
	"多少钱", "什么价", "包邮", "自提", "到店", "发货", "冷链", "顺丰", "下单", "已拍", "拍了", "求链接", "上车",
	"口感", "味道", "甜不甜", "酸不酸", "苦不苦", "脆不脆", "软不软", "好吃", "好喝", "过敏", "过敏原", "配料", "配料表",
	"添加剂", "防腐剂", "代可可脂", "含糖", "含糖量", "无糖", "控糖", "乳糖不耐", "咖啡因", "香精", "生巧", "抹茶", "冷泡茶",
	"保质期", "规格", "库存", "有货", "补货", "个头", "果径", "yyds", "绝了", "回购", "入口即化", "离谱", "齁",
}

// Intent names what a comment wants.
type Intent string

const (
	AskPrice       Intent = "ask_price"
	AskTaste       Intent = "ask_taste"
	AskIngredients Intent = "ask_ingredients_allergen"
	AskStockSize   Intent = "ask_stock_size"
	AskShipping    Intent = "ask_shipping_pickup"
	AskOther       Intent = "ask_other"
	Purchase       Intent = "purchase_intent"
	Praise         Intent = "praise"
	Complaint      Intent = "complaint"
	Chitchat       Intent = "chitchat"
	Spam           Intent = "spam"
)

// Intents lists every intent in a stable order (reports, tests).
var Intents = []Intent{AskPrice, AskTaste, AskIngredients, AskStockSize, AskShipping, AskOther, Purchase, Praise, Complaint, Chitchat, Spam}

// IsQuestion reports whether the intent asks something the host should answer.
func (i Intent) IsQuestion() bool {
	switch i {
	case AskPrice, AskTaste, AskIngredients, AskStockSize, AskShipping, AskOther:
		return true
	}
	return false
}

// Sentiment is pos, neg or neu.
type Sentiment string

const (
	Pos Sentiment = "pos"
	Neg Sentiment = "neg"
	Neu Sentiment = "neu"
)

var (
	spamRE = regexp.MustCompile(`(?i)(https?://|www\.|\.cn\b|\.com\b|加\s*(v|微|薇|q|扣)|vx|v信|微信|q群|qq|兼职|日结|代理|代购|刷单|返现|互粉|互关|私我|私信我|点我头像|看主页|1[3-9]\d{9})`)
	// questionRE marks a question: particles, question words, "A不A".
	questionRE = regexp.MustCompile(`[?？吗呢嘛么]|多少|几|怎么|什么|哪|多久|是否|能不能|会不会|有没有|可不可以|可以.{0,6}吗|求|区别|咋`)
)

// aNotA finds "甜不甜", "苦不苦": a question without a particle.
func aNotA(rs []rune) bool {
	for i := 1; i+1 < len(rs); i++ {
		if rs[i] == '不' && rs[i-1] == rs[i+1] {
			return true
		}
	}
	return false
}

// Phrases per intent, matched as substrings of the normalised comment.
var (
	purchasePhrases = []string{"拍了", "已拍", "拍一", "拍两", "下单", "下了单", "要了", "我要", "给我来", "来一", "来两", "来三", "来个", "要一", "要两", "要三",
		"抢到", "冲冲", "冲", "蹲", "求链接", "怎么买", "想要", "必入", "入了", "再来", "想吃", "送人", "上车", "都要", "也要"}
	complaintPhrases = []string{"坏了", "烂", "死的", "碎了", "酸了", "不新鲜", "太贵", "这么贵", "离谱", "难吃", "难喝", "差评", "退款", "投诉", "一般般",
		"太甜了", "齁", "太冲", "香精味", "不冰", "不值", "卡了", "模糊", "听不清", "声音太小", "不回", "没回答", "谁敢买", "太小了", "是软的",
		"不太喜欢", "不喜欢", "失望", "坑", "骗", "没啥味"}
	praisePhrases = []string{"好吃", "好喝", "超甜", "真甜", "新鲜", "赞", "绝了", "yyds", "好香", "真香", "好大", "好肥", "喜欢", "好看", "颜值",
		"很正", "入口即化", "清爽", "回购", "好想", "真的香", "更好喝", "更好吃", "不错", "👍"}
	chitchatPhrases = []string{"主播好", "哪里人", "背景音乐", "漂亮", "辛苦", "晚上好", "早点休息", "在吗", "来了", "来啦", "打卡", "第一次", "关注了"}
	// roomPhrases are about the live itself, not a product.
	roomPhrases = []string{"下一个", "几点结束", "今天上什么", "什么时候开始", "卡了", "声音", "画面", "客服", "主播没回", "问题主播"}
	// comparePhrases ask about several products at once.
	comparePhrases = []string{"两个", "两款", "哪个", "哪款", "都想"}

	askGroups = []struct {
		intent  Intent
		phrases []string
	}{
		{AskIngredients, []string{"成分", "配料", "添加", "过敏", "坚果", "麸质", "乳糖", "含糖", "糖量", "热量", "卡路里", "防腐剂", "孕妇", "无糖",
			"代可可脂", "大豆", "咖啡因", "香精", "全脂", "农药", "无抗", "加水", "纯果汁", "加糖", "控糖", "海鲜过敏"}},
		{AskPrice, []string{"多少钱", "价格", "价位", "什么价", "几块", "几折", "打折", "折扣", "优惠", "券", "便宜", "送一", "划算", "价格", "价位"}},
		{AskShipping, []string{"包邮", "发货", "快递", "配送", "送到", "自提", "提货", "门店", "到店", "店能", "几天到", "能到", "顺丰", "冷链", "运费",
			"寄", "偏远", "发吗", "压坏", "会不会碎", "包赔", "取吗", "同城", "到家"}},
		{AskStockSize, []string{"还有", "有货", "库存", "剩", "多大", "多重", "几两", "几颗", "几个", "几瓶", "几只", "规格", "个头", "大小", "果径",
			"毫升", "多少克", "大瓶", "脱脂", "够", "补货", "有吗", "分量"}},
		{AskTaste, []string{"甜", "酸", "苦", "口感", "味道", "好吃吗", "好喝吗", "脆", "软", "浓", "腥", "腻", "香吗", "膏", "哪个好", "味重", "什么味",
			"口味", "蛋黄"}},
	}

	posPhrases = []string{"哈哈", "666", "漂亮", "辛苦", "点赞", "好听", "冲", "晚上好", "新奇", "喜欢", "赞", "开心"}
)

// Complaints without a complaint word: what went wrong told as a state
// ("有点化了", "都不冰了"), a degree nobody can bear ("酸得没法喝"), a count or
// size below what was shown or promised ("分量比图上少", "说好的四两 称了才
// 三两出头"), a wait ("等了一周还在路上") or a comparison with before ("比上
// 回淡多了"). A question about the same thing ("夏天寄会不会化") is not one,
// unless it tells of a purchase ("上次买的怎么都化了").
var (
	implicitComplaintRE = regexp.MustCompile(strings.Join([]string{
		// a degree past bearing: 酸得没法喝, 苦得咽不下去, 吃不动了
		`得(没法|不能|受不了)`, `没法(吃|喝|入口|下口|下嘴)`, `[吃喝咽]不(下去|动了|了第)`, `[吃喝]不出.{0,3}味`,
		// gone off or broken on arrival
		`化了|化成|结块|结成块|变味|变质|馊|鼓起来|鼓包|胀气|粘在一起|软塌塌|塌了|裂口|流水|流汤|皱皮|发黑|发霉|哈喇|不冰了|不凉了|不吐泡|半死`,
		// fewer or smaller than shown or promised
		`比(图|图片|照片|视频|直播|宣传|描述|说的)[上里中]?[^?？]{0,6}(少|小|差|淡|瘦|薄|短)`, `说好的`,
		`少了[0-9一二两三四五六七八九十几半]+`, `缺斤|短斤|不够秤|分量不足`, `(才|只有|就)[0-9一二两三四五六七八九十百几半多]+(个|只|颗|克|g|斤|两|片|粒|瓶|枚)`,
		`(图上|图片|照片|视频里|直播里|说是|号称|宣传)[^?？]{0,12}(收到|到手|拿到|实际|结果)`, `说是[^?？ ]{1,10} [^?？]+`,
		// worse than before
		`比(上次|上回|之前|以前|上一[次回瓶盒])[^?？]{0,3}(淡|小|差|少|酸|贵|难|硬|干)`, `不如(上次|上回|之前|以前)`,
		// nothing of what it should taste of
		`味(道)?(都|也)没有`, `一点.{0,4}味.{0,2}没有`,
		// still waiting
		`(等了|下单|拍了|买了|付款)[^?？]{0,6}[天周月][^?？]{0,6}(还|都|也)(没|在路上)`, `还在路上`,
	}, "|"))
	// askedRE: a question in form (particles, "会不会"): asking whether
	// something may happen is no complaint.
	askedRE = regexp.MustCompile(`[?？吗呢嘛]|会不会|能不能|有没有|是不是|可不可以|多少|多久|怎么样|[^好]几[天个只颗斤]`)
	// toldRE: the comment tells of a purchase or a delivery.
	toldRE = regexp.MustCompile(`上次|上回|收到|到手|拿到|买的|买回|寄到|送到|到货|打开|拆开|开箱|之前买|昨天|下单|等了`)
	// fineStateRE: the same topics, well: "收到一个没碎", "还是冰的", "比上次买的还大".
	// verdictPraise: the viewer's own verdict is praise ("颜色深得发黑 好评").
	verdictPraise = []string{"好评", "点赞", "满意", "推荐", "👍"}
	fineStateRE   = regexp.MustCompile(`还是[冰凉鲜脆活硬]|(都|一个|一颗|一只)没[碎破坏烂化]|比[^?？不]{0,8}还[大甜好香鲜清脆嫩多]`)
)

// states are what the state rules say of a comment, read once per comment
// (by the rules and as the model's features).
type states struct {
	bad   bool // a complaint told without a complaint word
	told  bool // tells of a purchase or a delivery
	fine  bool // the same topics, well
	asked bool // a question in form
}

// statesOf reads a normalised comment's states.
func statesOf(norm string) states {
	st := states{told: toldRE.MatchString(norm), fine: fineStateRE.MatchString(norm), asked: askedRE.MatchString(norm)}
	st.bad = !st.fine && !containsAny(norm, verdictPraise) && (!st.asked || st.told) && implicitComplaintRE.MatchString(norm)
	return st
}
