package notify

import (
	"context"

	"github.com/shelflive/shelflive/internal/apperr"
)

// MiniGrant is what a viewer allowed of one subscribe-message template of
// the mini-program: Credits messages of it may be sent to them (each
// "accept" in wx.requestSubscribeMessage allows one, WeChat's rule for
// one-time subscriptions).
type MiniGrant struct {
	Kind       string `json:"kind"` // what the template is for (wxmini.TemplateLiveStart …)
	TemplateID string `json:"template_id"`
	Credits    int    `json:"credits"`
}

// MiniGrants keeps the viewers' subscribe-message grants.
type MiniGrants interface {
	// AddMiniGrants adds one credit for each template id, in one transaction.
	AddMiniGrants(ctx context.Context, merchantID, customerID int64, appID string, templateIDs []string) error
	// MiniGrantCredits are the viewer's credits by template id.
	MiniGrantCredits(ctx context.Context, merchantID, customerID int64, appID string) (map[string]int, error)
}

// Subscribe-message answers wx.requestSubscribeMessage gives per template.
const (
	MiniAccept = "accept" // allowed: one message
	MiniReject = "reject" // declined this time
	MiniBan    = "ban"    // WeChat banned the template
	MiniFilter = "filter" // WeChat filtered the template (title and keywords repeat another)
)

// Errors of the subscribe-message route.
var (
	ErrUnknownTemplate = apperr.InvalidField("results", "unknown_template", "订阅消息模板不属于本小程序", "That subscribe-message template is not one of this mini-program's.")
	ErrMiniAnswer      = apperr.InvalidField("results", "invalid_subscribe_answer", "订阅结果只能是 accept、reject、ban 或 filter", "A subscribe answer is accept, reject, ban or filter.")
)
