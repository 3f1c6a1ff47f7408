// Package demo seeds the demo merchant "鲜食集 Demo Fresh Market" on first
// start: stores, ~20 foods with images and facts, lots with dates, stock,
// staff for every role and a live room with slug "demo".
package demo

import (
	"context"
	"errors"
	"fmt"
	"github.com/shelflive/shelflive/internal/cn"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/coldchain"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/live"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/stores"
	"github.com/shelflive/shelflive/internal/trace"
)

// MerchantSlug is the demo merchant's slug.
const MerchantSlug = "demo"

// Password is every demo staff account's password (printed at start).
const Password = "shelflive-demo"

// Deps is what Seed writes to.
type Deps struct {
	Users     identity.Store
	Catalog   catalog.Store
	Stores    stores.Repo
	Inventory inventory.Store
	Live      live.Store
	DataDir   string
	// Images receives the product pictures (key uploads/demo/…); nil means
	// the data dir. On a cluster it is the shared object store, so every
	// node serves them, not only the one that seeded.
	Images objstore.Store
	Now    time.Time
	// ColdChain and Events, when set, receive the demo's cold-chain
	// history (sensors, readings, a released excursion, EPCIS events).
	ColdChain coldchain.Store
	Events    trace.EventStore
}

// Logins lists the demo staff as (username, role) for the start banner.
var Logins = [][2]string{{"owner", "owner"}, {"host", "host"}, {"guide", "guide"}, {"store", "store"}, {"quality", "quality"}}

type food struct {
	name, en, sub, origin, ingredients, allergens, specs string
	storage                                              catalog.StorageClass
	shelfDays                                            int
	glyph                                                string
	hue                                                  int
	skus                                                 []skuSpec
}

type skuSpec struct {
	code, name  string
	price, list int64
	gtin        string
}

var foods = []food{
	{"丹东99草莓", "Dandong strawberries", "现摘现发 · 甜度12+", "辽宁丹东 东港市", "草莓", "无", "单果20-30g", catalog.Chilled, 5, "莓", 350, []skuSpec{{"SB-500", "500g 盒装", 3980, 4980, "06901234500011"}, {"SB-1000", "1kg 礼盒", 6980, 8980, "06901234500028"}}},
	{"低温鲜牛奶", "Fresh pasteurised milk", "巴氏杀菌 · 72小时鲜", "内蒙古 锡林郭勒", "生牛乳", "乳", "950ml", catalog.Chilled, 7, "奶", 210, []skuSpec{{"MK-950", "950ml", 1590, 1890, "06901234500035"}}},
	{"海南金钻凤梨", "Hainan golden pineapple", "无眼凤梨 · 免削皮", "海南 万宁", "凤梨", "无", "单果1.2-1.5kg", catalog.Ambient, 10, "梨", 45, []skuSpec{{"PA-1", "1个装", 2990, 3590, "06901234500042"}, {"PA-2", "2个装", 5490, 6990, "06901234500059"}}},
	{"厄瓜多尔白虾", "Ecuador white shrimp", "-18℃急冻 · 30/40规格", "厄瓜多尔 瓜亚斯", "白对虾", "甲壳类", "1.65kg/盒", catalog.Frozen, 540, "虾", 10, []skuSpec{{"SH-1650", "1.65kg 盒", 12900, 15900, "06901234500066"}}},
	{"有机菠菜", "Organic spinach", "有机认证 · 当日采收", "上海 崇明岛", "菠菜", "无", "300g", catalog.Chilled, 3, "菜", 120, []skuSpec{{"SP-300", "300g", 890, 1090, "06901234500073"}}},
	{"散养土鸡蛋", "Free-range eggs", "林下散养 · 可生食标准", "江西 赣州", "鸡蛋", "蛋", "30枚", catalog.Chilled, 30, "蛋", 40, []skuSpec{{"EG-30", "30枚", 3980, 4580, "06901234500080"}}},
	{"云南小粒咖啡豆", "Yunnan coffee beans", "中深烘 · 坚果可可风味", "云南 普洱", "阿拉比卡咖啡豆", "无", "250g", catalog.Ambient, 365, "豆", 25, []skuSpec{{"CF-250", "250g", 6800, 7800, "06901234500097"}}},
	{"挂耳燕麦酸奶", "Oat yogurt", "0蔗糖 · 植物基", "上海 松江", "燕麦, 水, 菌种", "燕麦(麸质)", "180g×6", catalog.Chilled, 21, "酸", 280, []skuSpec{{"YG-6", "6杯装", 3590, 4290, "06901234500103"}}},
	{"手工全麦吐司", "Whole-wheat toast", "门店现烤 · 当日售完", "上海 各门店烘焙坊", "全麦粉, 水, 酵母, 盐", "小麦(麸质)", "450g", catalog.Ambient, 3, "麦", 30, []skuSpec{{"TS-450", "450g", 1880, 2280, "06901234500110"}}},
	{"五常稻花香大米", "Wuchang rice", "新米 · 一年一季", "黑龙江 五常", "稻米", "无", "5kg", catalog.Ambient, 365, "米", 55, []skuSpec{{"RC-5", "5kg", 8900, 10900, "06901234500127"}}},
	{"阳澄湖大闸蟹", "Yangcheng Lake hairy crab", "公4两母3两 · 鲜活直发", "江苏 苏州 阳澄湖", "中华绒螯蟹", "甲壳类", "8只装", catalog.Chilled, 3, "蟹", 20, []skuSpec{{"CR-8", "8只礼盒", 39800, 49800, "06901234500134"}}},
	{"智利车厘子", "Chilean cherries", "JJ级 · 空运到港", "智利 奥希金斯", "樱桃", "无", "2kg", catalog.Chilled, 10, "樱", 340, []skuSpec{{"CH-2", "2kg 礼盒", 19900, 25900, "06901234500141"}}},
	{"黑猪肉五花", "Black pork belly", "谷饲300天 · 冷鲜", "浙江 金华", "猪肉", "无", "500g", catalog.Chilled, 5, "肉", 0, []skuSpec{{"PB-500", "500g", 4590, 5290, "06901234500158"}}},
	{"手工速冻水饺", "Hand-made dumplings", "荠菜猪肉 · 门店手包", "上海 中央厨房", "面粉, 猪肉, 荠菜", "小麦(麸质)", "30只", catalog.Frozen, 180, "饺", 200, []skuSpec{{"DP-30", "30只", 3290, 3890, "06901234500165"}}},
	{"新疆阿克苏苹果", "Aksu apples", "冰糖心 · 脆甜多汁", "新疆 阿克苏", "苹果", "无", "5kg", catalog.Ambient, 30, "果", 5, []skuSpec{{"AP-5", "5kg 箱", 5990, 6990, "06901234500172"}}},
	{"宁夏枸杞", "Ningxia goji berries", "头茬 · 免洗", "宁夏 中宁", "枸杞", "无", "250g", catalog.Ambient, 365, "杞", 8, []skuSpec{{"GJ-250", "250g", 3900, 4500, "06901234500189"}}},
	{"抹茶生巧", "Matcha ganache", "新品内测 · 宇治抹茶", "上海 研发中心", "白巧克力, 奶油, 抹茶", "乳, 大豆", "120g", catalog.Chilled, 14, "巧", 100, []skuSpec{{"CC-M", "抹茶味", 6800, 7800, "06901234500196"}}},
	{"黑糖生巧", "Brown sugar ganache", "新品内测 · 冲绳黑糖", "上海 研发中心", "黑巧克力, 奶油, 黑糖", "乳, 大豆", "120g", catalog.Chilled, 14, "糖", 25, []skuSpec{{"CC-B", "黑糖味", 6800, 7800, "06901234500202"}}},
	{"三文鱼刺身", "Salmon sashimi", "挪威冰鲜 · 当日切片", "挪威 特罗姆瑟", "大西洋鲑", "鱼", "200g", catalog.Chilled, 2, "鱼", 15, []skuSpec{{"SA-200", "200g", 7900, 8900, "06901234500219"}}},
	{"临期鲜榨橙汁", "Fresh orange juice (near expiry)", "临期特惠 · 明日到期", "上海 中央厨房", "橙子", "无", "1L", catalog.Chilled, 5, "橙", 30, []skuSpec{{"OJ-1", "1L", 990, 2590, "06901234500226"}}},
	// Two new tea flavours launched in one live: the A/B story of issue 19
	// (`shelflive demo replay-ab`).
	{"桂花乌龙冷泡茶", "Osmanthus oolong cold brew", "新品 · 0糖 · 桂花窨制", "福建 安溪", "乌龙茶, 桂花, 水", "无", "500ml", catalog.Chilled, 30, "桂", 45, []skuSpec{{"TEA-OS", "单瓶", 1200, 1500, "06901234500233"}, {"TEA-OS6", "6瓶装", 6600, 9000, "06901234500240"}}},
	{"白桃乌龙冷泡茶", "White peach oolong cold brew", "新品 · 0糖 · 白桃果香", "福建 安溪", "乌龙茶, 白桃果粒, 水", "无", "500ml", catalog.Chilled, 30, "桃", 330, []skuSpec{{"TEA-PE", "单瓶", 1200, 1500, "06901234500257"}, {"TEA-PE6", "6瓶装", 6600, 9000, "06901234500264"}}},
}

// demoSKUNamesEN are the demo SKUs' English names, by SKU code; a plain
// weight or volume ("250g", "1L") reads the same in both and has none.
var demoSKUNamesEN = map[string]string{
	"SB-500": "500g box", "SB-1000": "1kg gift box", "PA-1": "Single fruit", "PA-2": "Pack of 2",
	"SH-1650": "1.65kg box", "EG-30": "30 eggs", "YG-6": "6 cups", "CR-8": "Gift box of 8",
	"CH-2": "2kg gift box", "DP-30": "30 dumplings", "AP-5": "5kg case", "CC-M": "Matcha",
	"CC-B": "Brown sugar", "TEA-OS": "Single bottle", "TEA-OS6": "6 bottles", "TEA-PE": "Single bottle", "TEA-PE6": "6 bottles",
}

// demoAliases are what viewers call some products in comments: comment
// insights attribute comments by them.
var demoAliases = map[string][]string{
	"丹东99草莓": {"99草莓", "1号"}, "低温鲜牛奶": {"鲜奶", "2号"}, "智利车厘子": {"樱桃", "3号"},
	"抹茶生巧": {"绿色那盒"}, "黑糖生巧": {"棕色那盒"}, "阳澄湖大闸蟹": {"螃蟹"},
	"桂花乌龙冷泡茶": {"桂花", "黄色那杯", "A款"}, "白桃乌龙冷泡茶": {"白桃", "粉色那杯", "B款"},
}

// demoCategories put the demo's products on the shelves a grocer would.
var demoCategories = map[string]string{
	"丹东99草莓": "水果", "海南金钻凤梨": "水果", "智利车厘子": "水果", "新疆阿克苏苹果": "水果",
	"低温鲜牛奶": "乳品", "挂耳燕麦酸奶": "乳品", "临期鲜榨橙汁": "饮品", "桂花乌龙冷泡茶": "饮品", "白桃乌龙冷泡茶": "饮品",
	"厄瓜多尔白虾": "水产", "阳澄湖大闸蟹": "水产", "三文鱼刺身": "水产", "有机菠菜": "蔬菜", "散养土鸡蛋": "蛋品",
	"云南小粒咖啡豆": "冲饮", "手工全麦吐司": "烘焙", "抹茶生巧": "甜点", "黑糖生巧": "甜点", "五常稻花香大米": "粮油",
	"黑猪肉五花": "肉类", "手工速冻水饺": "速冻", "宁夏枸杞": "干货",
}

// Seed creates the demo merchant once; it returns false when it exists.
func Seed(ctx context.Context, d Deps) (bool, error) {
	if _, err := d.Users.MerchantBySlug(ctx, MerchantSlug); err == nil {
		return false, nil
	} else if !errors.Is(err, apperr.ErrNotFound) {
		return false, err
	}
	m := &identity.Merchant{Slug: MerchantSlug, Name: "鲜食集", NameEN: "Demo Fresh Market"}
	if err := d.Users.CreateMerchant(ctx, m); err != nil {
		return false, fmt.Errorf("seed merchant: %w", err)
	}
	storeList := []stores.Store{
		{Name: "鲜食集·静安寺店", NameEN: "Jing'an Temple", Address: "上海市静安区南京西路1618号B1", Lat: 31.2237, Lng: 121.4453, Phone: "021-6288-0001", Hours: "08:00-22:00", Delivery: true},
		{Name: "鲜食集·陆家嘴店", NameEN: "Lujiazui", Address: "上海市浦东新区陆家嘴环路1000号L1", Lat: 31.2397, Lng: 121.4998, Phone: "021-6288-0002", Hours: "08:00-22:00"},
		{Name: "鲜食集·徐家汇店", NameEN: "Xujiahui", Address: "上海市徐汇区虹桥路1号港汇B2", Lat: 31.1955, Lng: 121.4367, Phone: "021-6288-0003", Hours: "09:00-21:30"},
	}
	for i := range storeList {
		storeList[i].MerchantID = m.ID
		if err := d.Stores.CreateStore(ctx, &storeList[i]); err != nil {
			return false, fmt.Errorf("seed store: %w", err)
		}
	}
	hostID, err := seedStaff(ctx, d, m.ID, storeList[0].ID)
	if err != nil {
		return false, err
	}
	productIDs, seeded, err := seedProducts(ctx, d, m.ID, storeList)
	if err != nil {
		return false, err
	}
	if err := seedRooms(ctx, d, m.ID, hostID, productIDs); err != nil {
		return false, err
	}
	if d.ColdChain != nil && d.Events != nil {
		if err := seedColdChain(ctx, d, m.ID, storeList, seeded); err != nil {
			return false, fmt.Errorf("seed cold chain: %w", err)
		}
	}
	return true, nil
}

// seedStaff creates the demo's staff, one of each role (the guide and the
// store clerk at firstStore), and returns the host's id.
func seedStaff(ctx context.Context, d Deps, merchantID, firstStore int64) (int64, error) {
	hash, err := identity.HashPassword(Password)
	if err != nil {
		return 0, err
	}
	staff := []identity.Staff{
		{Username: "owner", Phone: "13800000001", Name: "林店长", Role: identity.RoleOwner},
		{Username: "host", Phone: "13800000002", Name: "小鲜主播", Role: identity.RoleHost},
		{Username: "guide", Phone: "13800000003", Name: "王导购", Role: identity.RoleGuide, StoreID: firstStore, GuideCode: "wang01"},
		{Username: "store", Phone: "13800000004", Name: "静安店员", Role: identity.RoleStore, StoreID: firstStore},
		{Username: "quality", Phone: "13800000005", Name: "品控张工", Role: identity.RoleQuality},
	}
	var hostID int64
	for i := range staff {
		staff[i].MerchantID, staff[i].PasswordHash = merchantID, hash
		if err := d.Users.CreateStaff(ctx, &staff[i]); err != nil {
			return 0, fmt.Errorf("seed staff: %w", err)
		}
		if staff[i].Role == identity.RoleHost {
			hostID = staff[i].ID
		}
	}
	return hostID, nil
}

// seedProducts creates the demo's foods with their images, and for each SKU
// a lot made recently enough to sell today, stocked at every store.
func seedProducts(ctx context.Context, d Deps, merchantID int64, storeList []stores.Store) ([]int64, []seededLot, error) {
	images := d.Images
	if images == nil {
		images = objstore.NewLocal(d.DataDir)
	}
	var productIDs []int64
	var seeded []seededLot
	day := 24 * time.Hour
	for i, f := range foods {
		file := fmt.Sprintf("p%02d.svg", i+1)
		svg := productSVG(f)
		if err := images.Put(ctx, "uploads/demo/"+file, strings.NewReader(svg), int64(len(svg)), "image/svg+xml"); err != nil {
			return nil, nil, fmt.Errorf("seed image: %w", err)
		}
		p := &catalog.Product{MerchantID: merchantID, Name: f.name, NameEN: f.en, Subtitle: f.sub, Origin: f.origin, Ingredients: f.ingredients, Allergens: f.allergens,
			Specs: f.specs, Storage: f.storage, ShelfDays: f.shelfDays, Active: true, Image: "/uploads/demo/" + file, Aliases: demoAliases[f.name], Category: demoCategories[f.name],
			Description: f.sub + "。产地：" + f.origin + "。"}
		for _, k := range f.skus {
			p.SKUs = append(p.SKUs, catalog.SKU{Code: k.code, Name: k.name, NameEN: demoSKUNamesEN[k.code], PriceFen: k.price, ListPriceFen: k.list, GTIN: k.gtin, Active: true})
		}
		if err := d.Catalog.CreateProduct(ctx, p); err != nil {
			return nil, nil, fmt.Errorf("seed product %s: %w", f.name, err)
		}
		productIDs = append(productIDs, p.ID)
		for si, k := range p.SKUs {
			// Made a day or three ago, but short-lived foods only this morning,
			// so every demo lot is sellable on the day the demo starts.
			age := time.Duration(1+i%3) * day
			if f.shelfDays <= 3 {
				age = 10 * time.Hour
			}
			produced := d.Now.Add(-age).Truncate(time.Hour)
			expires := produced.Add(time.Duration(f.shelfDays) * day)
			if strings.HasPrefix(k.Code, "OJ") {
				expires = d.Now.Add(30 * time.Hour) // the clearance item
			}
			lot := &inventory.Lot{MerchantID: merchantID, SKUID: k.ID, Code: fmt.Sprintf("L%s%02d", produced.Format("060102"), si+1), ProducedAt: produced, ExpiresAt: expires, Origin: f.origin}
			if err := d.Inventory.CreateLot(ctx, lot); err != nil {
				return nil, nil, fmt.Errorf("seed lot: %w", err)
			}
			sl := seededLot{id: lot.ID, code: lot.Code, gtin: k.GTIN, class: string(f.storage), origin: f.origin, produced: produced, product: f.name, sku: k.Name}
			for j, st := range storeList {
				qty := int64(20 + (i*7+j*5)%40)
				if err := d.Inventory.SetStock(ctx, merchantID, st.ID, lot.ID, qty); err != nil {
					return nil, nil, fmt.Errorf("seed stock: %w", err)
				}
				sl.storesWithStock = append(sl.storesWithStock, st.ID)
			}
			seeded = append(seeded, sl)
		}
	}
	return productIDs, seeded, nil
}

// seedRooms creates the live room (its lineup, the first product pinned)
// and the clearance scheduled for tonight at 8.
func seedRooms(ctx context.Context, d Deps, merchantID, hostID int64, productIDs []int64) error {
	now := d.Now
	room := &live.Room{MerchantID: merchantID, Slug: "demo", Title: "草莓季 · 产地直播", TitleEN: "Strawberry season, live from the farm",
		HostStaffID: hostID, HostName: "小鲜主播", Status: live.Live, StartedAt: &now, StreamKey: "demo-stream-key", Poster: "/uploads/demo/p01.svg"}
	if err := d.Live.CreateRoom(ctx, room); err != nil {
		return fmt.Errorf("seed room: %w", err)
	}
	lineup := []int64{productIDs[0], productIDs[1], productIDs[11], productIDs[16], productIDs[17], productIDs[10], productIDs[19], productIDs[5]}
	if err := d.Live.SetLineup(ctx, merchantID, room.ID, lineup); err != nil {
		return err
	}
	if err := d.Live.Pin(ctx, merchantID, room.ID, productIDs[0], now); err != nil {
		return err
	}
	later := NextEvening(now) // the title promises 晚8点: 8 pm in China
	next := &live.Room{MerchantID: merchantID, Slug: "clearance", Title: "临期好物 · 晚8点清仓", TitleEN: "Near-expiry clearance at 8pm",
		HostStaffID: hostID, HostName: "小鲜主播", Status: live.Scheduled, ScheduledAt: &later, StreamKey: "clearance-stream-key", Poster: "/uploads/demo/p20.svg"}
	if err := d.Live.CreateRoom(ctx, next); err != nil {
		return err
	}
	if err := d.Live.SetLineup(ctx, merchantID, next.ID, []int64{productIDs[19], productIDs[8], productIDs[1]}); err != nil {
		return err
	}
	return nil
}

// productSVG draws a clean product tile: a colour field, a soft shape and
// the product's key character, so the demo has images without any download.
func productSVG(f food) string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="480" height="480" viewBox="0 0 480 480">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(%d,70%%,88%%)"/><stop offset="1" stop-color="hsl(%d,65%%,62%%)"/></linearGradient></defs>
<rect width="480" height="480" rx="36" fill="url(#g)"/>
<circle cx="360" cy="110" r="90" fill="hsla(%d,80%%,97%%,0.45)"/>
<circle cx="110" cy="390" r="120" fill="hsla(%d,60%%,40%%,0.15)"/>
<text x="240" y="292" font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="200" font-weight="700" text-anchor="middle" fill="hsl(%d,55%%,28%%)">%s</text>
<text x="240" y="420" font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="34" text-anchor="middle" fill="hsl(%d,45%%,22%%)">%s</text>
</svg>`, f.hue, f.hue, f.hue, f.hue, f.hue, f.glyph, f.hue, f.name)
}

// NextEvening is the next 20:00 in China after now: the clearance room's
// title says 晚8点 (8 pm), and buyers read it in Shanghai time.
func NextEvening(now time.Time) time.Time {
	local := now.In(cn.Shanghai)
	at := time.Date(local.Year(), local.Month(), local.Day(), 20, 0, 0, 0, cn.Shanghai)
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	return at.UTC()
}
