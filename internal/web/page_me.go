package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// meRoutes: 我的, the customer's own page, and what it reads.
func (s *Server) meRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/me", Access: Customer, Summary: "我的: orders with pickup codes, addresses, subscriptions, inbox, privacy", handler: s.pageMe},
		{Method: "GET", Path: "/api/v1/me/subscriptions", Access: Customer, API: true, Summary: "The lives the viewer subscribed to (预约)", handler: s.apiMySubscriptions},
	}
}

// myAddress is a delivery address the customer used, newest first.
type myAddress struct {
	Name, Phone, Address string
}

// pageMe is 我的 at phone size: the inbox on top, then orders (status and,
// for the buyer only, the pickup code), the addresses used, the lives
// subscribed to and the privacy buttons. The members domain adds its card
// in the slot marked in me.html.
func (s *Server) pageMe(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Orders.List(r.Context(), order.Filter{MerchantID: p.MerchantID, CustomerID: p.SubjectID})
	if err != nil {
		return err
	}
	list = app.OrderViews(p, list)
	from := r.URL.Query().Get("from")
	if !slugRE.MatchString(from) {
		from = ""
	}
	type orderRow struct {
		order.Order
		ShowCode bool
	}
	rows := make([]orderRow, 0, len(list))
	var addrs []myAddress
	seen := map[string]bool{}
	for _, o := range list {
		rows = append(rows, orderRow{Order: o, ShowCode: o.Fulfilment == order.Pickup && o.PickupCode != "" && (o.Status == order.Paid || o.Status == order.Ready)})
		if o.Fulfilment == order.Delivery && o.Address != "" {
			key := o.ContactName + "\x00" + o.ContactPhone + "\x00" + o.Address
			if !seen[key] && len(addrs) < 5 {
				seen[key] = true
				addrs = append(addrs, myAddress{Name: o.ContactName, Phone: identity.MaskPhone(o.ContactPhone), Address: o.Address})
			}
		}
	}
	data := map[string]any{"Orders": rows, "From": from, "Addresses": addrs}
	if c, err := s.App.Users.Customer(r.Context(), p.MerchantID, p.SubjectID); err == nil {
		data["Phone"] = identity.MaskPhone(c.Phone)
	}
	if s.App.Reminders != nil {
		if subs, err := s.App.Reminders.Subscriptions(r.Context(), p.MerchantID, p.SubjectID); err == nil {
			data["Subscriptions"] = subs
		}
		if msgs, unread, err := s.App.Reminders.Inbox(r.Context(), p.MerchantID, p.SubjectID, 20); err == nil {
			data["Inbox"], data["Unread"] = msgs, unread
			if unread > 0 {
				s.App.Reminders.MarkRead(r.Context(), p.MerchantID, p.SubjectID, s.App.Now())
			}
		}
	}
	if wx := s.meWeChat(r, p.MerchantID, p.SubjectID); wx != nil {
		data["WeChat"] = wx // the shared nickname and avatar, or the consent button inside WeChat
	}
	if s.App.Members != nil {
		if v, err := s.App.MyMembership(r.Context(), p); err == nil {
			data["Membership"] = v // the member card (number, tier, points) or the join button
		}
	}
	return s.render(w, r, 200, "me.html", data)
}

func (s *Server) apiMySubscriptions(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	subs, err := s.App.Reminders.Subscriptions(r.Context(), p.MerchantID, p.SubjectID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"subscriptions": subs})
}
