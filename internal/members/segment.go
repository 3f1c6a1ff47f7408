package members

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// SegmentKind names a rule for picking customers.
type SegmentKind string

const (
	SegMembers       SegmentKind = "members"         // every member
	SegTier          SegmentKind = "tier"            // members in tier Tier or above
	SegCategoryBuyer SegmentKind = "category_buyers" // customers with a paid order of a product of Category (the catalogue's 水果, 乳品 …)
	SegStoreCustomer SegmentKind = "store_customers" // customers with a paid order at StoreID
	SegFanGroup      SegmentKind = "fan_group"       // members of fan group GroupID (a GroupChecker answers)
)

// Segment is a group of a merchant's customers. A room restricted to a
// segment shows its goods, and sells, only to customers in it.
type Segment struct {
	Kind     SegmentKind `json:"kind"`
	Tier     int         `json:"tier,omitempty"`     // SegTier: the lowest tier rank admitted
	Category string      `json:"category,omitempty"` // SegCategoryBuyer
	StoreID  int64       `json:"store_id,omitempty"` // SegStoreCustomer
	GroupID  int64       `json:"group_id,omitempty"` // SegFanGroup
}

// Validate checks the segment's own fields (that a store or group exists
// is the caller's to check).
func (s *Segment) Validate() error {
	switch s.Kind {
	case SegMembers:
		*s = Segment{Kind: SegMembers}
	case SegTier:
		if s.Tier < 0 || s.Tier > 7 {
			return ErrSegment.At("tier")
		}
		*s = Segment{Kind: SegTier, Tier: s.Tier}
	case SegCategoryBuyer:
		c := strings.TrimSpace(s.Category)
		if c == "" || utf8.RuneCountInString(c) > 20 {
			return ErrSegment.At("category")
		}
		*s = Segment{Kind: SegCategoryBuyer, Category: c}
	case SegStoreCustomer:
		if s.StoreID <= 0 {
			return ErrSegment.At("store_id")
		}
		*s = Segment{Kind: SegStoreCustomer, StoreID: s.StoreID}
	case SegFanGroup:
		if s.GroupID <= 0 {
			return ErrSegment.At("group_id")
		}
		*s = Segment{Kind: SegFanGroup, GroupID: s.GroupID}
	default:
		return ErrSegment.At("kind")
	}
	return nil
}

// Joinable reports whether joining the membership is the way in (members,
// or tier 0); other segments are entered by buying or joining a group.
func (s Segment) Joinable() bool {
	return s.Kind == SegMembers || (s.Kind == SegTier && s.Tier == 0)
}

// Marshal is the stored form.
func (s Segment) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// UnmarshalSegment reads the stored form.
func UnmarshalSegment(raw string) (*Segment, error) {
	var s Segment
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Gate is what a viewer outside a room's segment is shown instead of the
// goods: why, and the way in.
type Gate struct {
	Segment  Segment `json:"segment"`
	Text     string  `json:"text"`
	TextEN   string  `json:"text_en"`
	Joinable bool    `json:"joinable"` // the join button is the way in
	TierName string  `json:"tier_name,omitempty"`
	JoinURL  string  `json:"join_url,omitempty"` // a fan group's page, where one joins it
}

// GateOf words the way into a segment for the page.
func GateOf(s Segment, prog Program, groupName, groupURL string) Gate {
	g := Gate{Segment: s, Joinable: s.Joinable()}
	switch s.Kind {
	case SegMembers:
		g.Text, g.TextEN = "加入会员即可抢购临期好货", "Join the membership to shop these near-expiry deals"
	case SegTier:
		name, en := "会员", "members"
		if s.Tier < len(prog.Tiers) {
			name, en = prog.Tiers[s.Tier].Name, prog.Tiers[s.Tier].NameEN
			if en == "" {
				en = name
			}
		}
		g.TierName = name
		if s.Tier == 0 {
			g.Text, g.TextEN = "加入会员即可抢购临期好货", "Join the membership to shop these near-expiry deals"
		} else {
			g.Text, g.TextEN = "本场专享"+name+"及以上会员，累计消费升级即可参与", "For "+en+" members and above: shop more to move up a tier"
		}
	case SegCategoryBuyer:
		g.Text, g.TextEN = "本场专享老顾客：买过「"+s.Category+"」类商品即可参与", "For customers who bought from the category "+s.Category+" before"
	case SegStoreCustomer:
		g.Text, g.TextEN = "本场专享本店顾客：在本店下单自提后即可参与", "For this store's customers: order for pickup here to take part"
	case SegFanGroup:
		if groupName == "" {
			groupName = "粉丝群"
		}
		g.Text, g.TextEN = "本场专享「"+groupName+"」成员，加入粉丝群即可抢购", "For members of the fan group "+groupName+": join the group to shop"
		g.JoinURL = groupURL
	}
	return g
}

// GroupChecker answers fan-group segments (app adapts fans.Store to it);
// without one, fan-group segments are refused when set (ErrGroupsMissing)
// and never admit anyone.
type GroupChecker interface {
	// InGroup reports whether the customer is a member of the merchant's group.
	InGroup(ctx context.Context, merchantID, groupID, customerID int64) (bool, error)
	// GroupName is the group's display name and the page where one joins
	// it; apperr.ErrNotFound when the merchant has no such group.
	GroupName(ctx context.Context, merchantID, groupID int64) (name, url string, err error)
}
