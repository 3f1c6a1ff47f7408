package app

import (
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/order"
)

// OrderView is o as p may see it: the one masking rule every view of an
// order goes through (REST answers, WebSocket messages, pages, exports).
//
//   - The buyer sees everything, the pickup code included.
//   - Staff with customer.pii see the contact name, phone and address.
//   - Other staff (host, guide …) see the phone as 138****1234, the name
//     as its first character and "*", the address as "***".
//   - Nobody but the buyer sees the pickup code: it is the buyer's proof at
//     the counter, so staff who could read it could hand the goods over
//     with nobody there.
//
// p == nil is a message to a shared topic whose subscribers are not all
// known: it gets the most restricted staff view. o is not modified.
func OrderView(p *identity.Principal, o *order.Order) *order.Order {
	v := *o
	if p != nil && p.Kind == identity.KindCustomer && p.SubjectID == o.CustomerID && p.MerchantID == o.MerchantID {
		return &v
	}
	v.PickupCode = ""
	if p != nil && p.IsStaff() && identity.Can(p.Role, identity.PermCustomerPII) {
		return &v
	}
	if v.ContactPhone != "" {
		v.ContactPhone = identity.MaskPhone(v.ContactPhone)
	}
	v.ContactName = maskName(v.ContactName)
	if v.Address != "" {
		v.Address = "***"
	}
	return &v
}

// OrderViews applies OrderView to a list.
func OrderViews(p *identity.Principal, list []order.Order) []order.Order {
	out := make([]order.Order, len(list))
	for i := range list {
		out[i] = *OrderView(p, &list[i])
	}
	return out
}

func maskName(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return string(r[0]) + "*"
}
