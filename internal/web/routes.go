package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/identity"
)

// api is one JSON route of a route table: method, path, who may call it
// (access class and permission), the summary the OpenAPI check reads, and
// the handler. Every file's Routes uses it, so a route stays one line.
func api(method, path string, acc Access, perm identity.Permission, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
	return Route{Method: method, Path: path, Access: acc, Perm: perm, API: true, Summary: summary, handler: h}
}

// Routes is the one route table: the router, the OpenAPI check and the
// authorization matrix test all read it. It is long because it is a table,
// one line a route; each domain's own routes are in its file (groupRoutes,
// moderationRoutes …) and appended here.
func (s *Server) Routes() []Route {
	P, C, S, A := Public, Customer, Staff, AnyLogin
	page := func(path string, acc Access, perm identity.Permission, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: "GET", Path: path, Access: acc, Perm: perm, Summary: summary, handler: h}
	}
	routes := []Route{
		// operations
		{Method: "GET", Path: "/healthz", Access: P, API: true, Summary: "Liveness", handler: s.handleHealthz},
		{Method: "GET", Path: "/readyz", Access: P, API: true, Summary: "Readiness (database answers)", handler: s.handleReadyz},
		{Method: "GET", Path: "/metrics", Access: P, API: true, Summary: "Prometheus metrics", handler: s.handleMetrics},
		{Method: "GET", Path: "/api/openapi.json", Access: P, API: true, Summary: "This API's OpenAPI 3.1 document", handler: s.handleOpenAPI},

		// pages
		page("/{$}", P, "", "Home: live rooms", s.pageHome),
		page("/live/{slug}", P, "", "Viewer room", s.pageLive),
		page("/orders", C, "", "The viewer's orders (我的订单)", s.pageMyOrders),
		page("/orders/{id}", C, "", "Order status and pickup code", s.pageOrder),
		page("/pay/dev/{intent}", P, "", "Dev payment provider page", s.pagePayDev),
		page("/login", P, "", "Staff login", s.pageLogin),
		page("/setup", P, "", "First start: create the first merchant (one-time setup token)", s.pageSetup),
		page("/studio", S, identity.PermModerate, "Host studio (moderators: comments only)", s.pageStudio),
		page("/admin", S, identity.PermAdminView, "Admin console", s.pageAdmin),
		page("/pickup", S, identity.PermOrdersFulfil, "Store pickup verification", s.pagePickup),
		page("/qr/orders/{id}", C, "", "Pickup QR code (PNG)", s.pageOrderQR),

		// auth
		api("POST", "/api/v1/setup", P, "", "First start: create the first merchant and its owner with the one-time setup token", s.apiSetup),
		api("POST", "/api/v1/auth/login", P, "", "Staff login with username or phone + password", s.apiLogin),
		api("POST", "/api/v1/auth/logout", A, "", "End the current session", s.apiLogout),
		api("GET", "/api/v1/auth/me", A, "", "The current caller", s.apiMe),
		api("POST", "/api/v1/auth/otp", P, "", "Send a login code to a phone", s.apiOTP),
		api("POST", "/api/v1/auth/otp/verify", P, "", "Log a viewer in with phone + code", s.apiOTPVerify),
		api("POST", "/api/v1/auth/wechat/miniprogram", P, "", "Log a viewer in from the WeChat mini-program (wx.login code)", s.apiMiniProgramLogin),
		api("GET", "/api/v1/auth/tokens", S, identity.PermStaffWrite, "List API tokens", s.apiListTokens),
		api("POST", "/api/v1/auth/tokens", S, identity.PermStaffWrite, "Create an API token (shown once)", s.apiCreateToken),
		api("DELETE", "/api/v1/auth/tokens/{id}", S, identity.PermStaffWrite, "Revoke an API token", s.apiRevokeToken),

		// rooms
		api("GET", "/api/v1/rooms", S, identity.PermModerate, "List the merchant's rooms", s.apiListRooms),
		api("POST", "/api/v1/rooms", S, identity.PermRoomsWrite, "Create a room", s.apiCreateRoom),
		api("GET", "/api/v1/rooms/{slug}", P, "", "A room's public state", s.apiRoom),
		api("PATCH", "/api/v1/rooms/{slug}", S, identity.PermRoomsWrite, "Edit a room (title, schedule, lineup)", s.apiUpdateRoom),
		api("POST", "/api/v1/rooms/{slug}/status", S, identity.PermRoomHost, "Go live or end", s.apiRoomStatus),
		api("POST", "/api/v1/rooms/{slug}/pin", S, identity.PermRoomHost, "Push/pin a product card", s.apiPin),
		api("DELETE", "/api/v1/rooms/{slug}/pin", S, identity.PermRoomHost, "Unpin the card", s.apiUnpin),
		api("POST", "/api/v1/rooms/{slug}/trace-card", S, identity.PermRoomHost, "Show viewers a product's trace (origin, cold chain) as a card", s.apiTraceCard),
		api("GET", "/api/v1/rooms/{slug}/pins", P, "", "Pin history (for replay jumps)", s.apiPins),
		api("GET", "/api/v1/rooms/{slug}/comments", P, "", "Recent comments", s.apiComments),
		api("POST", "/api/v1/rooms/{slug}/comments", A, "", "Post a comment (viewer, or staff with X-ShelfLive-As: staff)", s.apiPostComment),
		api("DELETE", "/api/v1/rooms/{slug}/comments/{id}", S, identity.PermModerate, "Delete a comment", s.apiDeleteComment),
		api("POST", "/api/v1/rooms/{slug}/likes", P, "", "Send likes (hearts)", s.apiLike),
		api("POST", "/api/v1/rooms/{slug}/shares", P, "", "Get a share link with attribution", s.apiShare),
		api("GET", "/api/v1/rooms/{slug}/stores", P, "", "Pickup stores nearest first, with stock of a SKU", s.apiRoomStores),
		api("GET", "/api/v1/rooms/{slug}/flash-sales", S, identity.PermRoomHost, "A room's flash sales (all states)", s.apiListFlash),
		api("POST", "/api/v1/rooms/{slug}/flash-sales", S, identity.PermRoomHost, "Start or schedule a flash sale", s.apiCreateFlash),
		api("POST", "/api/v1/flash-sales/{id}/end", S, identity.PermRoomHost, "End a flash sale now", s.apiEndFlash),
		api("GET", "/api/v1/ws", P, "", "WebSocket: room, order and staff streams (see docs/PROTOCOL.md)", s.apiWS),

		// catalog
		api("GET", "/api/v1/products", S, identity.PermAdminView, "List products with SKUs and stock", s.apiListProducts),
		api("POST", "/api/v1/products", S, identity.PermCatalogWrite, "Create a product", s.apiCreateProduct),
		api("POST", "/api/v1/products/import", S, identity.PermCatalogWrite, "Create products from a CSV list, all or none (?dry_run=true checks only)", s.apiImportProducts),
		api("GET", "/api/v1/products/{id}", S, identity.PermAdminView, "A product", s.apiProduct),
		api("PUT", "/api/v1/products/{id}", S, identity.PermCatalogWrite, "Update a product", s.apiUpdateProduct),
		api("POST", "/api/v1/skus/{id}/price", S, identity.PermRoomHost, "Change a SKU's price live", s.apiSetPrice),
		api("POST", "/api/v1/uploads", S, identity.PermCatalogWrite, "Upload a product image", s.apiUpload),

		// stores, lots, stock
		api("GET", "/api/v1/stores", S, identity.PermAdminView, "List stores", s.apiListStores),
		api("POST", "/api/v1/stores", S, identity.PermStoresWrite, "Create a store", s.apiCreateStore),
		api("PUT", "/api/v1/stores/{id}", S, identity.PermStoresWrite, "Update a store", s.apiUpdateStore),
		api("GET", "/api/v1/lots", S, identity.PermAdminView, "List lots", s.apiListLots),
		api("POST", "/api/v1/lots", S, identity.PermStockWrite, "Create a lot", s.apiCreateLot),
		api("POST", "/api/v1/lots/{id}/hold", S, identity.PermTraceWrite, "Put a lot on hold or release it", s.apiHoldLot),
		api("GET", "/api/v1/stock", S, identity.PermAdminView, "Stock levels per store and lot", s.apiStock),
		api("PUT", "/api/v1/stock", S, identity.PermStockWrite, "Set on-hand stock of a lot in a store", s.apiSetStock),
		api("POST", "/api/v1/stock/import", S, identity.PermStockWrite, "Apply a stock count from CSV, creating missing lots, all or none (?dry_run=true checks only)", s.apiImportStock),

		// orders and payments
		api("POST", "/api/v1/orders", C, "", "Buy: reserve stock and create an order (Idempotency-Key)", s.apiCreateOrder),
		api("GET", "/api/v1/orders", S, identity.PermOrdersRead, "List orders (staff)", s.apiListOrders),
		api("GET", "/api/v1/me/orders", C, "", "The viewer's own orders", s.apiMyOrders),
		api("GET", "/api/v1/me/data", C, "", "Export everything kept about the viewer (privacy request)", s.apiExportMe),
		api("DELETE", "/api/v1/me", C, "", "Delete the viewer's personal data (privacy request)", s.apiEraseMe),
		api("GET", "/api/v1/orders/{id}", A, "", "An order (its buyer, or staff)", s.apiOrder),
		api("POST", "/api/v1/orders/{id}/pay", C, "", "Start paying an order", s.apiPay),
		api("POST", "/api/v1/orders/{id}/cancel", C, "", "Cancel an unpaid order", s.apiCancelOwn),
		api("GET", "/api/v1/reports/guides", S, identity.PermOrdersRead, "Orders and revenue each store guide's share links brought in", s.apiGuideSales),
		api("GET", "/api/v1/reports/stores", S, identity.PermOrdersRead, "Every store side by side: its studio's rooms, orders and GMV (staff of one store: theirs)", s.apiStoreReport),
		api("POST", "/api/v1/orders/{id}/status", S, identity.PermOrdersFulfil, "Mark ready/shipped/completed or cancel+refund", s.apiOrderStatus),
		api("POST", "/api/v1/pickups/verify", S, identity.PermOrdersFulfil, "Look up or confirm a pickup code", s.apiVerifyPickup),
		api("GET", "/api/v1/payments/dev/{intent}", P, "", "Dev provider: payment intent", s.apiDevIntent),
		api("POST", "/api/v1/payments/dev/{intent}/confirm", P, "", "Dev provider: the buyer confirms; the provider sends its signed callback", s.apiDevConfirm),
		api("POST", "/api/v1/payments/dev/callback", P, "", "Payment callback (HMAC-signed by the provider)", s.apiPaymentCallback),

		// staff
		api("GET", "/api/v1/staff", S, identity.PermStaffWrite, "List staff", s.apiListStaff),
		api("POST", "/api/v1/staff", S, identity.PermStaffWrite, "Create a staff account", s.apiCreateStaff),
		api("PUT", "/api/v1/staff/{id}", S, identity.PermStaffWrite, "Update a staff account or role", s.apiUpdateStaff),
		api("GET", "/api/v1/audit", S, identity.PermAuditRead, "Audit log of staff actions", s.apiAudit),
	}
	routes = append(routes, (&Insight{Server: s}).Routes()...) // analytics, dashboard, comment insights, A/B, report
	routes = append(routes, s.webhookRoutes()...)              // outgoing webhooks
	routes = append(routes, s.accountRoutes()...)              // invitations, reset links, own password
	routes = append(routes, s.clearanceRoutes()...)            // near-expiry clearance
	routes = append(routes, s.paymentRoutes()...)              // WeChat Pay, Alipay: settings, callbacks, refunds
	routes = append(routes, s.smsRoutes()...)                  // the shop's SMS sign name and template
	routes = append(routes, s.pollRoutes()...)                 // room polls
	routes = append(routes, s.reminderRoutes()...)             // 预约 and the inbox
	routes = append(routes, s.meRoutes()...)                   // 我的
	routes = append(routes, s.pushRoutes()...)                 // Web Push and SMS reminders, opt-out, service worker
	routes = append(routes, s.wechatShareRoutes()...)          // JS-SDK share config inside WeChat
	routes = append(routes, s.wechatProfileRoutes()...)        // the WeChat nickname and avatar a viewer shared (snsapi_userinfo)
	routes = append(routes, s.wechatLoginRoutes()...)          // silent WeChat login (snsapi_base) of bound customers
	routes = append(routes, s.miniProgramRoutes()...)          // the WeChat mini-program: settings, subscribe-message grants
	routes = append(routes, s.couponRoutes()...)               // coupons: cards, wallet, checkout quote, cost report
	routes = append(routes, s.aftersaleRoutes()...)            // 售后: refunds, returns, complaints
	routes = append(routes, s.householdRoutes()...)            // smart fridges → pushes before things run out
	routes = append(routes, s.guideRoutes()...)                // guides: share links, commission, statements
	routes = append(routes, s.wecomRoutes()...)                // WeCom: connection, guides' userids, send a live

	routes = append(routes, s.presaleRoutes()...)    // pre-sales to a minimum order (以销定产)
	routes = append(routes, s.cocreateRoutes()...)   // co-creation drafts (共创) and the room's group card
	routes = append(routes, s.groupRoutes()...)      // topic groups: posts, recipes, comments, moderators
	routes = append(routes, s.shareRoutes()...)      // posters, room QR codes, product pages (share cards)
	routes = append(routes, s.clipRoutes()...)       // product clips: pages, videos, staff's list
	routes = append(routes, s.embedRoutes()...)      // the embeddable room card and oEmbed
	routes = append(routes, s.pickupRoutes()...)     // pickup slots
	routes = append(routes, s.deliveryRoutes()...)   // shipments, tracking timelines
	routes = append(routes, s.drawRoutes()...)       // 福袋 draws
	routes = append(routes, s.trialRoutes()...)      // new-product trials (内测)
	routes = append(routes, s.memberRoutes()...)     // members, points, member prices, rooms for a segment
	routes = append(routes, s.moderationRoutes()...) // mutes, bans, reports, word lists
	if s.ColdChain != nil {
		routes = append(routes, s.ColdChain.Routes()...) // trace pages, cold chain, regulator exports
	}
	routes = append(routes, (&Compliance{Server: s}).Routes()...) // advertising-law review, scripts
	routes = append(routes, (&Assist{Server: s}).Routes()...)     // the studio's host assistant

	return routes
}
