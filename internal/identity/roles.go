package identity

// Role is what a staff member (or token) may do. Customers have RoleViewer.
type Role string

const (
	RoleOwner   Role = "owner"
	RoleAdmin   Role = "admin"
	RoleHost    Role = "host"
	RoleGuide   Role = "guide"
	RoleQuality Role = "quality"
	RoleStore   Role = "store" // store staff: pickups, stock of their store
	// RoleModerator keeps a merchant's comments clean: mutes, bans,
	// reports and word lists in every room, and nothing that sells.
	RoleModerator Role = "moderator"
	RoleViewer    Role = "viewer"
)

// StaffRoles lists the roles staff accounts may hold, most powerful first.
var StaffRoles = []Role{RoleOwner, RoleAdmin, RoleHost, RoleGuide, RoleQuality, RoleStore, RoleModerator}

// Valid reports whether r is a known staff role.
func (r Role) Valid() bool {
	for _, s := range StaffRoles {
		if s == r {
			return true
		}
	}
	return false
}

// Label is the role's name as staff see it.
func (r Role) Label() string {
	switch r {
	case RoleOwner:
		return "店主 Owner"
	case RoleAdmin:
		return "管理员 Admin"
	case RoleHost:
		return "主播 Host"
	case RoleGuide:
		return "导购 Guide"
	case RoleQuality:
		return "品控 Quality"
	case RoleStore:
		return "门店 Store staff"
	case RoleModerator:
		return "场控 Moderator"
	}
	return "观众 Viewer"
}

// Permission names one thing a caller may do.
type Permission string

const (
	PermCatalogWrite  Permission = "catalog.write"  // products, SKUs, prices, images
	PermStockWrite    Permission = "stock.write"    // lots and stock levels
	PermStoresWrite   Permission = "stores.write"   // stores
	PermRoomsWrite    Permission = "rooms.write"    // create/schedule/go live/end rooms
	PermRoomHost      Permission = "room.host"      // pin cards, moderate, change price/stock live
	PermOrdersRead    Permission = "orders.read"    // see all orders with contact data
	PermOrdersFulfil  Permission = "orders.fulfil"  // mark ready/shipped, verify pickup codes
	PermOrdersRefund  Permission = "orders.refund"  // cancel and refund
	PermStaffWrite    Permission = "staff.write"    // staff accounts and roles, API tokens
	PermTraceWrite    Permission = "trace.write"    // EPCIS capture, holds
	PermAdminView     Permission = "admin.view"     // open the admin console
	PermAuditRead     Permission = "audit.read"     // read the audit log
	PermCustomerPII   Permission = "customer.pii"   // see buyers' full phone numbers and addresses
	PermPaymentsWrite Permission = "payments.write" // the shop's WeChat Pay / Alipay accounts (keys are write-only) and SMS sign name/template
	PermModerate      Permission = "moderate"       // delete comments, mute and ban viewers, reports, word lists
)

// permissions is the single permission table; docs/SECURITY.md mirrors it.
var permissions = map[Role][]Permission{
	RoleOwner:   {PermCatalogWrite, PermStockWrite, PermStoresWrite, PermRoomsWrite, PermRoomHost, PermOrdersRead, PermOrdersFulfil, PermOrdersRefund, PermStaffWrite, PermTraceWrite, PermAdminView, PermAuditRead, PermCustomerPII, PermPaymentsWrite, PermModerate},
	RoleAdmin:   {PermCatalogWrite, PermStockWrite, PermStoresWrite, PermRoomsWrite, PermRoomHost, PermOrdersRead, PermOrdersFulfil, PermOrdersRefund, PermAdminView, PermAuditRead, PermCustomerPII, PermModerate},
	RoleHost:    {PermRoomHost, PermOrdersRead, PermAdminView, PermModerate},
	RoleGuide:   {PermOrdersFulfil},
	RoleQuality: {PermTraceWrite, PermStockWrite, PermAdminView},
	RoleStore:   {PermOrdersFulfil, PermOrdersRead, PermCustomerPII},
	// A moderator opens the studio to watch comments and act on them; no
	// orders, no prices, no cards, no admin console.
	RoleModerator: {PermModerate},
}

// Can reports whether role has perm.
func Can(role Role, perm Permission) bool {
	for _, p := range permissions[role] {
		if p == perm {
			return true
		}
	}
	return false
}

// Permissions returns role's permissions (for docs and the matrix test).
func Permissions(role Role) []Permission { return permissions[role] }
