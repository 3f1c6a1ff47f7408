package web_test

import (
	"context"
	"fmt"
	"github.com/shelflive/shelflive/internal/notify"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/sqldb"
	"github.com/shelflive/shelflive/internal/testkit"
	"github.com/shelflive/shelflive/internal/web"
)

// caller is one row of the authorization matrix.
type caller struct {
	name   string
	kind   string        // anon | customer | staff
	role   identity.Role // staff only
	tenant int           // 1 = the demo merchant, 2 = a second merchant
	buyer  bool          // the customer who placed the matrix orders
	token  string
	fresh  func() string // another session of the same person, for routes that end one
}

// endsSession are routes after which the caller's session is gone (logout)
// or the caller is (privacy erasure).
var endsSession = map[string]bool{
	"POST /api/v1/auth/logout": true,
	"DELETE /api/v1/me":        true,
}

// scope says who may see the object a path parameter names.
type scope int

const (
	scopePublic scope = iota // anyone who knows the slug or capability id (public room, payment intent)
	scopeTenant              // the merchant's own staff; other tenants get 404
	scopeBuyer               // like scopeTenant, and among customers only the buyer
)

// objects are the real ids the matrix fills into path parameters.
type objects struct {
	roomSlug                string
	optOut                  string // a valid opt-out token (SMS) of the buyer
	roomID                  int64
	productID, skuID        int64
	storeID, lotID          int64
	orderID, otherStoreOrd  int64
	otherStoreID            int64 // a demo store the store staff do not work at
	intent                  string
	tokenID, staffID        int64
	commentDel, commentBan  int64
	reportID, restrictionID int64
	demoStoreID, priceFen   int64
	product                 map[string]any
	streamKeys              []string
	saleID                  int64
	traceCode, digitalLink  string
	alarmID                 int64
	webhookID, webhookDel   int64
	webhookDelivery         int64
	pollID                  int64
	clipID                  int64
	couponID                int64
	aftersaleID             int64

	presaleID              int64
	draftID                int64
	drawID                 int64
	trialID                int64
	groupSlug              string
	groupPostID            int64
	groupHideID            int64
	groupCommentID         int64
	groupMemberID          int64
	termID, evidenceID     int64
	merchantID, otherMerch int64
	store                  map[string]any
}

// objectRoute is an explicit matrix entry for a route with path parameters.
type objectRoute struct {
	scope scope
	path  func(o *objects) string
}

// objectRoutes lists every route with a path parameter. A new parameterised
// route fails TestAuthorizationMatrix until it is added here, because the
// matrix cannot invent a real object id for it.
var objectRoutes = map[string]objectRoute{
	"GET /live/{slug}":                     {scopePublic, func(o *objects) string { return "/live/" + o.roomSlug }},
	"GET /orders/{id}":                     {scopeBuyer, func(o *objects) string { return "/orders/" + itoa(o.orderID) }},
	"GET /pay/dev/{intent}":                {scopePublic, func(o *objects) string { return "/pay/dev/" + o.intent }},
	"GET /qr/orders/{id}":                  {scopeBuyer, func(o *objects) string { return "/qr/orders/" + itoa(o.orderID) }},
	"DELETE /api/v1/auth/tokens/{id}":      {scopeTenant, func(o *objects) string { return "/api/v1/auth/tokens/" + itoa(o.tokenID) }},
	"GET /api/v1/rooms/{slug}":             {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug }},
	"PATCH /api/v1/rooms/{slug}":           {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug }},
	"POST /api/v1/rooms/{slug}/status":     {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/status" }},
	"POST /api/v1/rooms/{slug}/pin":        {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/pin" }},
	"DELETE /api/v1/rooms/{slug}/pin":      {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/pin" }},
	"POST /api/v1/rooms/{slug}/trace-card": {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/trace-card" }},
	"GET /api/v1/rooms/{slug}/pins":        {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/pins" }},
	"GET /clips/{id}":                      {scopePublic, func(o *objects) string { return "/clips/" + itoa(o.clipID) }},
	"GET /embed/rooms/{slug}":              {scopePublic, func(o *objects) string { return "/embed/rooms/" + o.roomSlug }},
	"GET /clips/{id}/video.mp4":            {scopePublic, func(o *objects) string { return "/clips/" + itoa(o.clipID) + "/video.mp4" }},
	"GET /api/v1/clips/{id}":               {scopePublic, func(o *objects) string { return "/api/v1/clips/" + itoa(o.clipID) }},
	"PATCH /api/v1/clips/{id}":             {scopeTenant, func(o *objects) string { return "/api/v1/clips/" + itoa(o.clipID) }},
	"GET /api/v1/rooms/{slug}/clips":       {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/clips" }},
	"POST /api/v1/rooms/{slug}/clips":      {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/clips" }},
	"GET /api/v1/rooms/{slug}/comments":    {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/comments" }},
	// Posting needs an account of the room's merchant: other tenants get 404.
	"POST /api/v1/rooms/{slug}/comments": {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/comments" }},
	"DELETE /api/v1/rooms/{slug}/comments/{id}": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/comments/" + itoa(o.commentDel)
	}},
	"POST /api/v1/rooms/{slug}/comments/{id}/ban": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/comments/" + itoa(o.commentBan) + "/ban"
	}},
	"POST /api/v1/rooms/{slug}/comments/{id}/mute": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/comments/" + itoa(o.commentBan) + "/mute"
	}},
	// Reporting needs an account of the room's merchant: other tenants get 404.
	"POST /api/v1/rooms/{slug}/comments/{id}/report": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/comments/" + itoa(o.commentBan) + "/report"
	}},
	"DELETE /api/v1/moderation/restrictions/{id}": {scopeTenant, func(o *objects) string { return "/api/v1/moderation/restrictions/" + itoa(o.restrictionID) }},
	"POST /api/v1/moderation/reports/{id}":        {scopeTenant, func(o *objects) string { return "/api/v1/moderation/reports/" + itoa(o.reportID) }},
	"POST /api/v1/rooms/{slug}/likes":             {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/likes" }},
	"POST /api/v1/rooms/{slug}/shares":            {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/shares" }},
	"POST /api/v1/rooms/{slug}/events":            {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/events" }},
	"GET /api/v1/rooms/{slug}/stats":              {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/stats" }},
	"GET /api/v1/rooms/{slug}/insights":           {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/insights" }},
	"GET /report/{slug}":                          {scopeTenant, func(o *objects) string { return "/report/" + o.roomSlug }},
	"GET /api/v1/rooms/{slug}/report":             {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/report" }},
	"GET /api/v1/rooms/{slug}/report.csv":         {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/report.csv" }},
	"GET /api/v1/rooms/{slug}/report.xlsx":        {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/report.xlsx" }},
	"GET /api/v1/rooms/{slug}/ab": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/ab?a=" + itoa(o.productID) + "&b=" + itoa(o.productID)
	}},
	"POST /api/v1/rooms/{slug}/questions/{id}/answered": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/questions/" + itoa(o.commentBan) + "/answered"
	}},
	"GET /api/v1/rooms/{slug}/stores":       {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/stores?sku=" + itoa(o.skuID) }},
	"GET /api/v1/rooms/{slug}/flash-sales":  {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/flash-sales" }},
	"POST /api/v1/rooms/{slug}/flash-sales": {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/flash-sales" }},
	"POST /api/v1/flash-sales/{id}/end":     {scopeTenant, func(o *objects) string { return "/api/v1/flash-sales/" + itoa(o.saleID) + "/end" }},
	// compliance
	"DELETE /api/v1/compliance/terms/{id}":    {scopeTenant, func(o *objects) string { return "/api/v1/compliance/terms/" + itoa(o.termID) }},
	"DELETE /api/v1/compliance/evidence/{id}": {scopeTenant, func(o *objects) string { return "/api/v1/compliance/evidence/" + itoa(o.evidenceID) }},
	"GET /api/v1/rooms/{slug}/script":         {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/script" }},
	"PUT /api/v1/rooms/{slug}/script":         {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/script" }},
	"GET /api/v1/rooms/{slug}/compliance":     {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/compliance" }},
	"GET /api/v1/rooms/{slug}/assistant":      {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/assistant" }},
	"POST /api/v1/rooms/{slug}/assistant/suggest": {scopeTenant, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/assistant/suggest"
	}},
	// cold chain and public trace
	"GET /trace/{code}":             {scopePublic, func(o *objects) string { return "/trace/" + o.traceCode }},
	"GET /trace/01/{gtin}/10/{lot}": {scopePublic, func(o *objects) string { return o.digitalLink }},
	"GET /trace/01/{gtin}": {scopePublic, func(o *objects) string {
		return strings.Join(strings.Split(o.digitalLink, "/")[:4], "/") // /trace/01/{gtin}
	}},
	"GET /qr/trace/{code}":                       {scopePublic, func(o *objects) string { return "/qr/trace/" + o.traceCode }},
	"GET /api/v1/trace/{code}":                   {scopePublic, func(o *objects) string { return "/api/v1/trace/" + o.traceCode }},
	"POST /api/v1/coldchain/alarms/{id}/resolve": {scopeTenant, func(o *objects) string { return "/api/v1/coldchain/alarms/" + itoa(o.alarmID) + "/resolve" }},
	"GET /api/v1/coldchain/lots/{id}/evidence":   {scopeTenant, func(o *objects) string { return "/api/v1/coldchain/lots/" + itoa(o.lotID) + "/evidence" }},
	"GET /api/v1/coldchain/lots/{id}/trace-link": {scopeTenant, func(o *objects) string { return "/api/v1/coldchain/lots/" + itoa(o.lotID) + "/trace-link" }},
	"GET /api/v1/rooms/{slug}/subscription":      {scopeTenant, func(o *objects) string { return "/api/v1/rooms/clearance/subscription" }},
	"PUT /api/v1/rooms/{slug}/subscription":      {scopeTenant, func(o *objects) string { return "/api/v1/rooms/clearance/subscription" }},
	"DELETE /api/v1/rooms/{slug}/subscription":   {scopeTenant, func(o *objects) string { return "/api/v1/rooms/clearance/subscription" }},
	"GET /api/v1/rooms/{slug}/polls":             {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/polls" }},
	"POST /api/v1/rooms/{slug}/polls":            {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/polls" }},
	"POST /api/v1/polls/{id}/vote":               {scopeTenant, func(o *objects) string { return "/api/v1/polls/" + itoa(o.pollID) + "/vote" }},
	"POST /api/v1/polls/{id}/close":              {scopeTenant, func(o *objects) string { return "/api/v1/polls/" + itoa(o.pollID) + "/close" }},
	"POST /api/v1/coupons/{id}/push":             {scopeTenant, func(o *objects) string { return "/api/v1/coupons/" + itoa(o.couponID) + "/push" }},
	"POST /api/v1/coupons/{id}/end":              {scopeTenant, func(o *objects) string { return "/api/v1/coupons/" + itoa(o.couponID) + "/end" }},
	"POST /api/v1/coupons/{id}/grab":             {scopeTenant, func(o *objects) string { return "/api/v1/coupons/" + itoa(o.couponID) + "/grab" }},
	"POST /api/v1/coupons/{id}/issue":            {scopeTenant, func(o *objects) string { return "/api/v1/coupons/" + itoa(o.couponID) + "/issue" }},
	"GET /api/v1/coupons/{id}/issues":            {scopeTenant, func(o *objects) string { return "/api/v1/coupons/" + itoa(o.couponID) + "/issues" }},
	"GET /groups/{slug}":                         {scopePublic, func(o *objects) string { return "/groups/" + o.groupSlug }},
	"GET /api/v1/groups/{slug}":                  {scopePublic, func(o *objects) string { return "/api/v1/groups/" + o.groupSlug }},
	"PUT /api/v1/groups/{slug}/membership":       {scopeTenant, func(o *objects) string { return "/api/v1/groups/" + o.groupSlug + "/membership" }},
	"DELETE /api/v1/groups/{slug}/membership":    {scopeTenant, func(o *objects) string { return "/api/v1/groups/" + o.groupSlug + "/membership" }},
	"PUT /api/v1/groups/{slug}/moderators/{customer}": {scopeTenant, func(o *objects) string {
		return "/api/v1/groups/" + o.groupSlug + "/moderators/" + itoa(o.groupMemberID)
	}},
	"GET /api/v1/groups/{slug}/posts":           {scopePublic, func(o *objects) string { return "/api/v1/groups/" + o.groupSlug + "/posts" }},
	"POST /api/v1/groups/{slug}/posts":          {scopeTenant, func(o *objects) string { return "/api/v1/groups/" + o.groupSlug + "/posts" }},
	"POST /api/v1/groups/{slug}/photos":         {scopeTenant, func(o *objects) string { return "/api/v1/groups/" + o.groupSlug + "/photos" }},
	"GET /api/v1/group-posts/{id}/comments":     {scopePublic, func(o *objects) string { return "/api/v1/group-posts/" + itoa(o.groupPostID) + "/comments" }},
	"POST /api/v1/group-posts/{id}/comments":    {scopeTenant, func(o *objects) string { return "/api/v1/group-posts/" + itoa(o.groupPostID) + "/comments" }},
	"POST /api/v1/group-posts/{id}/hide":        {scopeTenant, func(o *objects) string { return "/api/v1/group-posts/" + itoa(o.groupHideID) + "/hide" }},
	"POST /api/v1/group-comments/{id}/hide":     {scopeTenant, func(o *objects) string { return "/api/v1/group-comments/" + itoa(o.groupCommentID) + "/hide" }},
	"POST /api/v1/group-posts/{id}/buy":         {scopeTenant, func(o *objects) string { return "/api/v1/group-posts/" + itoa(o.groupPostID) + "/buy" }},
	"GET /api/v1/cocreate-drafts/{id}":          {scopePublic, func(o *objects) string { return "/api/v1/cocreate-drafts/" + itoa(o.draftID) }},
	"POST /api/v1/cocreate-drafts/{id}/votes":   {scopeTenant, func(o *objects) string { return "/api/v1/cocreate-drafts/" + itoa(o.draftID) + "/votes" }},
	"POST /api/v1/cocreate-drafts/{id}/close":   {scopeTenant, func(o *objects) string { return "/api/v1/cocreate-drafts/" + itoa(o.draftID) + "/close" }},
	"POST /api/v1/cocreate-drafts/{id}/push":    {scopeTenant, func(o *objects) string { return "/api/v1/cocreate-drafts/" + itoa(o.draftID) + "/push" }},
	"POST /api/v1/cocreate-drafts/{id}/presale": {scopeTenant, func(o *objects) string { return "/api/v1/cocreate-drafts/" + itoa(o.draftID) + "/presale" }},
	"POST /api/v1/rooms/{slug}/group-card":      {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/group-card" }},
	"GET /presale/{id}":                         {scopePublic, func(o *objects) string { return "/presale/" + itoa(o.presaleID) }},
	"GET /api/v1/presales/{id}":                 {scopePublic, func(o *objects) string { return "/api/v1/presales/" + itoa(o.presaleID) }},
	"GET /api/v1/presales/{id}/mine":            {scopeTenant, func(o *objects) string { return "/api/v1/presales/" + itoa(o.presaleID) + "/mine" }},
	"POST /api/v1/presales/{id}/commit":         {scopeTenant, func(o *objects) string { return "/api/v1/presales/" + itoa(o.presaleID) + "/commit" }},
	"POST /api/v1/presales/{id}/balance":        {scopeTenant, func(o *objects) string { return "/api/v1/presales/" + itoa(o.presaleID) + "/balance" }},
	"GET /api/v1/presales/{id}/production.csv":  {scopeTenant, func(o *objects) string { return "/api/v1/presales/" + itoa(o.presaleID) + "/production.csv" }},
	"GET /api/v1/presales/{id}/production.xlsx": {scopeTenant, func(o *objects) string { return "/api/v1/presales/" + itoa(o.presaleID) + "/production.xlsx" }},
	"GET /api/v1/rooms/{slug}/draws":            {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/draws" }},
	"POST /api/v1/rooms/{slug}/draws":           {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/draws" }},
	"GET /api/v1/draws/{id}":                    {scopePublic, func(o *objects) string { return "/api/v1/draws/" + itoa(o.drawID) }},
	"POST /api/v1/draws/{id}/enter":             {scopeTenant, func(o *objects) string { return "/api/v1/draws/" + itoa(o.drawID) + "/enter" }},
	"POST /api/v1/draws/{id}/draw":              {scopeTenant, func(o *objects) string { return "/api/v1/draws/" + itoa(o.drawID) + "/draw" }},
	"GET /trials/{id}":                          {scopePublic, func(o *objects) string { return "/trials/" + itoa(o.trialID) }},
	"GET /api/v1/trials/{id}":                   {scopePublic, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) }},
	"GET /api/v1/trials/{id}/draw":              {scopePublic, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/draw" }},
	"GET /api/v1/trials/{id}/summary":           {scopePublic, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/summary" }},
	"GET /api/v1/trials/{id}/mine":              {scopeTenant, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/mine" }},
	"POST /api/v1/trials/{id}/apply":            {scopeTenant, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/apply" }},
	"POST /api/v1/trials/{id}/feedback":         {scopeTenant, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/feedback" }},
	"POST /api/v1/trials/{id}/select":           {scopeTenant, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/select" }},
	"GET /api/v1/trials/{id}/results":           {scopeTenant, func(o *objects) string { return "/api/v1/trials/" + itoa(o.trialID) + "/results" }},
	"GET /api/v1/rooms/{slug}/audience":         {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/audience" }},
	"PUT /api/v1/rooms/{slug}/audience":         {scopeTenant, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/audience" }},
	"PATCH /api/v1/webhooks/{id}":               {scopeTenant, func(o *objects) string { return "/api/v1/webhooks/" + itoa(o.webhookID) }},
	"DELETE /api/v1/webhooks/{id}":              {scopeTenant, func(o *objects) string { return "/api/v1/webhooks/" + itoa(o.webhookDel) }},
	"POST /api/v1/webhooks/{id}/rotate-secret":  {scopeTenant, func(o *objects) string { return "/api/v1/webhooks/" + itoa(o.webhookID) + "/rotate-secret" }},
	"POST /api/v1/webhooks/{id}/test":           {scopeTenant, func(o *objects) string { return "/api/v1/webhooks/" + itoa(o.webhookID) + "/test" }},
	"GET /api/v1/webhooks/{id}/deliveries":      {scopeTenant, func(o *objects) string { return "/api/v1/webhooks/" + itoa(o.webhookID) + "/deliveries" }},
	"POST /api/v1/webhook-deliveries/{id}/replay": {scopeTenant, func(o *objects) string {
		return "/api/v1/webhook-deliveries/" + itoa(o.webhookDelivery) + "/replay"
	}},
	"GET /api/v1/products/{id}":         {scopeTenant, func(o *objects) string { return "/api/v1/products/" + itoa(o.productID) }},
	"PUT /api/v1/products/{id}":         {scopeTenant, func(o *objects) string { return "/api/v1/products/" + itoa(o.productID) }},
	"POST /api/v1/skus/{id}/price":      {scopeTenant, func(o *objects) string { return "/api/v1/skus/" + itoa(o.skuID) + "/price" }},
	"PUT /api/v1/stores/{id}":           {scopeTenant, func(o *objects) string { return "/api/v1/stores/" + itoa(o.storeID) }},
	"POST /api/v1/lots/{id}/hold":       {scopeTenant, func(o *objects) string { return "/api/v1/lots/" + itoa(o.lotID) + "/hold" }},
	"GET /api/v1/orders/{id}":           {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) }},
	"POST /api/v1/orders/{id}/pay":      {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/pay" }},
	"POST /api/v1/orders/{id}/cancel":   {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/cancel" }},
	"POST /api/v1/orders/{id}/status":   {scopeTenant, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/status" }},
	"GET /api/v1/payments/dev/{intent}": {scopePublic, func(o *objects) string { return "/api/v1/payments/dev/" + o.intent }},
	"POST /api/v1/payments/dev/{intent}/confirm": {scopePublic, func(o *objects) string {
		return "/api/v1/payments/dev/" + o.intent + "/confirm"
	}},
	"PUT /api/v1/staff/{id}":       {scopeTenant, func(o *objects) string { return "/api/v1/staff/" + itoa(o.staffID) }},
	"PUT /api/v1/staff/{id}/wecom": {scopeTenant, func(o *objects) string { return "/api/v1/staff/" + itoa(o.staffID) + "/wecom" }},
	"POST /api/v1/staff/{id}/reset-link": {scopeTenant, func(o *objects) string {
		return "/api/v1/staff/" + itoa(o.staffID) + "/reset-link" // makes a link; only using it ends sessions
	}},
	"GET /invite/{token}": {scopePublic, func(*objects) string { return "/invite/not-a-live-link" }},
	"POST /api/v1/payments/wechatpay/notify/{merchant}": {scopePublic, func(o *objects) string {
		return "/api/v1/payments/wechatpay/notify/" + itoa(o.merchantID)
	}},
	"POST /api/v1/payments/alipay/notify/{merchant}": {scopePublic, func(o *objects) string {
		return "/api/v1/payments/alipay/notify/" + itoa(o.merchantID)
	}},
	"GET /api/v1/orders/{id}/payment-options":  {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/payment-options" }},
	"DELETE /api/v1/me/devices/{id}":           {scopeTenant, func(*objects) string { return "/api/v1/me/devices/999999999" }},
	"GET /h/{token}":                           {scopePublic, func(*objects) string { return "/h/not-a-push" }},
	"GET /h/{token}/stop":                      {scopePublic, func(*objects) string { return "/h/not-a-push/stop" }},
	"GET /api/v1/orders/{id}/refunds":          {scopeTenant, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/refunds" }},
	"POST /api/v1/orders/{id}/refunds":         {scopeTenant, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/refunds" }},
	"POST /api/v1/orders/{id}/refunds/retry":   {scopeTenant, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/refunds/retry" }},
	"GET /api/v1/orders/{id}/aftersales":       {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/aftersales" }},
	"POST /api/v1/orders/{id}/aftersales":      {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/aftersales" }},
	"POST /api/v1/aftersales/{id}/withdraw":    {scopeBuyer, func(o *objects) string { return "/api/v1/aftersales/" + itoa(o.aftersaleID) + "/withdraw" }},
	"GET /api/v1/rooms/{slug}/delivery-quote":  {scopePublic, func(o *objects) string { return "/api/v1/rooms/" + o.roomSlug + "/delivery-quote" }},
	"GET /api/v1/orders/{id}/shipment":         {scopeBuyer, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/shipment" }},
	"POST /api/v1/orders/{id}/shipment":        {scopeTenant, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/shipment" }},
	"POST /api/v1/orders/{id}/shipment/events": {scopeTenant, func(o *objects) string { return "/api/v1/orders/" + itoa(o.orderID) + "/shipment/events" }},
	"POST /api/v1/aftersales/{id}/decision":    {scopeTenant, func(o *objects) string { return "/api/v1/aftersales/" + itoa(o.aftersaleID) + "/decision" }},
	"GET /qr/share/{slug}":                     {scopeTenant, func(o *objects) string { return "/qr/share/" + o.roomSlug }},
	"GET /api/v1/rooms/{slug}/wechat-share": {scopePublic, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/wechat-share?url=/live/" + o.roomSlug
	}},
	"GET /notify/off/{token}":        {scopePublic, func(o *objects) string { return "/notify/off/" + o.optOut }},
	"GET /poster/{slug}":             {scopePublic, func(o *objects) string { return "/poster/" + o.roomSlug }},
	"GET /qr/room/{slug}":            {scopePublic, func(o *objects) string { return "/qr/room/" + o.roomSlug }},
	"GET /live/{slug}/products/{id}": {scopePublic, func(o *objects) string { return "/live/" + o.roomSlug + "/products/" + itoa(o.productID) }},
	"GET /api/v1/rooms/{slug}/stores/{id}/slots": {scopePublic, func(o *objects) string {
		return "/api/v1/rooms/" + o.roomSlug + "/stores/" + itoa(o.demoStoreID) + "/slots"
	}},
}

// handlerPerms are checks a handler makes on top of the route's Access: an
// AnyLogin route that staff may only use with a permission.
var handlerPerms = map[string]identity.Permission{
	"GET /api/v1/orders/{id}":          identity.PermOrdersRead,
	"GET /api/v1/orders/{id}/shipment": identity.PermOrdersRead,
}

// staffOnly are AnyLogin routes whose handler refuses viewers (403).
var staffOnly = map[string]bool{
	"POST /api/v1/auth/password": true, // a viewer has no password
}

// fixedPaths fill routes without path parameters that need a query.
var fixedPaths = map[string]func(o *objects) string{
	"GET /api/v1/ws":     func(o *objects) string { return "/api/v1/ws?sub=room:" + itoa(o.roomID) },
	"GET /{$}":           func(*objects) string { return "/" },
	"GET /api/v1/oembed": func(o *objects) string { return "/api/v1/oembed?url=" + url.QueryEscape("/live/"+o.roomSlug) },
	"GET /qr/pay":        func(*objects) string { return "/qr/pay?u=" + url.QueryEscape("weixin://wxpay/bizpayurl?pr=matrix") },
	"GET /api/v1/coldchain/exports/purchases.csv": func(o *objects) string { return "/api/v1/coldchain/exports/purchases.csv?lot_id=" + itoa(o.lotID) },
	"GET /api/v1/coldchain/exports/sales.csv":     func(o *objects) string { return "/api/v1/coldchain/exports/sales.csv?lot_id=" + itoa(o.lotID) },
	"GET /api/v1/coldchain/exports/fsma204.csv":   func(o *objects) string { return "/api/v1/coldchain/exports/fsma204.csv?lot_id=" + itoa(o.lotID) },
	"GET /api/v1/coldchain/exports/fsma204.xlsx":  func(o *objects) string { return "/api/v1/coldchain/exports/fsma204.xlsx?lot_id=" + itoa(o.lotID) },
}

// bodies are the request bodies the matrix sends. Each is chosen so that a
// permitted caller reaches the handler and changes nothing that later rows
// depend on (invalid creates, same-value updates, test-owned objects).
var bodies = map[string]func(o *objects) any{
	"POST /api/v1/coupons/{id}/issue":      func(o *objects) any { return map[string]any{"segment": map[string]any{"kind": "nobody"}} }, // segment_invalid: nobody gets one
	"POST /api/v1/auth/login":              func(*objects) any { return map[string]any{"matrix": true} },
	"POST /api/v1/auth/otp":                func(*objects) any { return map[string]any{"merchant": "demo", "phone": "123"} },
	"POST /api/v1/auth/otp/verify":         func(*objects) any { return map[string]any{"merchant": "demo", "phone": "123", "code": "1"} },
	"POST /api/v1/auth/wechat/miniprogram": func(*objects) any { return map[string]any{"merchant": "demo", "code": "matrix"} },
	"POST /api/v1/auth/tokens":             func(*objects) any { return map[string]any{"role": "guide", "label": "matrix", "days": 1} },
	"POST /api/v1/rooms":                   func(*objects) any { return map[string]any{"slug": "Not A Slug!", "title": "x"} },
	"PATCH /api/v1/rooms/{slug}":           func(*objects) any { return map[string]any{} },
	"PATCH /api/v1/clips/{id}":             func(*objects) any { return map[string]any{} },
	"POST /api/v1/rooms/{slug}/status":     func(*objects) any { return map[string]any{"status": "nonsense"} },
	"POST /api/v1/rooms/{slug}/pin":        func(o *objects) any { return map[string]any{"product_id": o.productID} },
	"POST /api/v1/rooms/{slug}/trace-card": func(o *objects) any { return map[string]any{"product_id": o.productID} },
	"POST /api/v1/rooms/{slug}/likes":      func(*objects) any { return map[string]any{"count": 1} },
	"POST /api/v1/rooms/{slug}/events":     func(o *objects) any { return map[string]any{"kind": "card_open", "product_id": o.productID} },
	"POST /api/v1/insight/classify":        func(o *objects) any { return map[string]any{"texts": []string{"多少钱"}} },
	"POST /api/v1/products":                func(*objects) any { return map[string]any{"name": ""} },
	"PUT /api/v1/products/{id}":            func(o *objects) any { return o.product },
	"POST /api/v1/skus/{id}/price":         func(o *objects) any { return map[string]any{"price_fen": o.priceFen} },
	"POST /api/v1/stores":                  func(*objects) any { return map[string]any{"name": ""} },
	"PUT /api/v1/stores/{id}":              func(o *objects) any { return o.store },
	"POST /api/v1/lots":                    func(*objects) any { return map[string]any{"code": ""} },
	"POST /api/v1/lots/{id}/hold":          func(*objects) any { return map[string]any{"hold": false, "reason": ""} },
	"PUT /api/v1/stock": func(o *objects) any {
		return map[string]any{"store_id": o.demoStoreID, "lot_id": o.lotID, "on_hand": 50}
	},
	"POST /api/v1/orders":             func(*objects) any { return map[string]any{"items": []any{}} },
	"POST /api/v1/orders/{id}/status": func(*objects) any { return map[string]any{"status": "ready"} },
	// No refund of the matrix's order failed: 409 refund_not_retryable after the tenant and store checks.
	"POST /api/v1/orders/{id}/refunds/retry": func(*objects) any { return map[string]any{"refund_no": "RF-matrix"} },
	// The matrix's order is a pickup order: shipping it is refused (409)
	// after the tenant and store checks, a nonsense stage (400) likewise.
	"POST /api/v1/orders/{id}/shipment":        func(*objects) any { return map[string]any{"carrier": "zhongtong", "tracking_no": "751234567890"} },
	"POST /api/v1/orders/{id}/shipment/events": func(*objects) any { return map[string]any{"stage": "nonsense", "text": "matrix"} },
	"POST /api/v1/pickups/verify":              func(*objects) any { return map[string]any{"code": "00000000", "confirm": false} },
	"POST /api/v1/staff":                       func(*objects) any { return map[string]any{"role": "nonsense", "name": "x"} },
	"PUT /api/v1/staff/{id}":                   func(*objects) any { return map[string]any{"name": "矩阵目标 Matrix target", "role": "guide"} },
	"PUT /api/v1/staff/{id}/wecom":             func(*objects) any { return map[string]any{"userid": "matrix"} },
	"POST /api/v1/uploads":                     func(*objects) any { return map[string]any{} },
	"POST /api/v1/me/uploads":                  func(*objects) any { return map[string]any{} },
	// an ask that breaks the rules (a partial refund before pickup), a
	// rejection without its reason: both reach the handler, change nothing
	"POST /api/v1/orders/{id}/aftersales": func(*objects) any {
		return map[string]any{"kind": "refund_only", "reason": "changed_mind", "amount_fen": 1}
	},
	"POST /api/v1/aftersales/{id}/decision":          func(*objects) any { return map[string]any{"approve": false} },
	"POST /api/v1/me/devices":                        func(*objects) any { return map[string]any{"name": "", "kind": "fridge", "consent": true} },
	"PUT /api/v1/me/household":                       func(*objects) any { return map[string]any{} },
	"PUT /api/v1/commission/rates":                   func(*objects) any { return map[string]any{"rates": []any{map[string]any{"rate_bp": -1}}} },
	"POST /api/v1/rooms/{slug}/comments/{id}/mute":   func(*objects) any { return map[string]any{"minutes": -1} },
	"POST /api/v1/rooms/{slug}/comments/{id}/report": func(*objects) any { return map[string]any{"reason": "nonsense"} },
	"POST /api/v1/moderation/reports/{id}":           func(*objects) any { return map[string]any{"decision": "nonsense"} },
	"PUT /api/v1/moderation/words":                   func(*objects) any { return map[string]any{"words": "not a list"} },
	"POST /api/v1/me/push-subscriptions":             func(*objects) any { return map[string]any{"endpoint": "ftp://matrix"} },
	"DELETE /api/v1/me/push-subscriptions":           func(*objects) any { return map[string]any{"endpoint": "https://push.example/none"} },
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// outcome classes the matrix compares.
const (
	allow    = "allow"    // reached the handler: anything but 401/403/5xx (and 2xx for reads)
	unauth   = "401"      // no credentials (API, customer pages)
	toLogin  = "303login" // staff page, anonymous: redirect to the login page
	forbid   = "403"
	notFound = "404" // another tenant's (or buyer's) object: indistinguishable from none
)

// expect derives the expected outcome of one route for one caller from the
// route table alone (plus objectRoutes and handlerPerms).
func expect(rt web.Route, c caller) string {
	key := rt.Method + " " + rt.Path
	var e string
	switch rt.Access {
	case web.Public:
		e = allow
	case web.Customer:
		switch c.kind {
		case "anon":
			e = unauth
		case "staff":
			e = forbid
		default:
			e = allow
		}
	case web.Staff:
		switch {
		case c.kind == "anon" && !rt.API:
			e = toLogin
		case c.kind == "anon":
			e = unauth
		case c.kind == "customer":
			e = forbid
		case identity.Can(c.role, rt.Perm):
			e = allow
		default:
			e = forbid
		}
	case web.AnyLogin:
		if c.kind == "anon" {
			e = unauth
		} else {
			e = allow
		}
	default:
		panic("unknown access for " + key)
	}
	if perm, ok := handlerPerms[key]; e == allow && ok && c.kind == "staff" && !identity.Can(c.role, perm) {
		e = forbid
	}
	if e == allow && staffOnly[key] && c.kind == "customer" {
		e = forbid
	}
	if obj, ok := objectRoutes[key]; ok && e == allow {
		if obj.scope >= scopeTenant && c.tenant != 1 {
			e = notFound
		}
		if obj.scope == scopeBuyer && c.kind == "customer" && !c.buyer {
			e = notFound
		}
	}
	return e
}

// expectCookie is expect for a browser: the route reads one cookie (staff
// routes sl_staff, the others sl_viewer, AnyLogin sl_staff when asked with
// X-ShelfLive-As: staff), and a caller holding the other kind of session
// counts as anonymous there.
func expectCookie(rt web.Route, c caller) string {
	reads := "customer"
	if rt.Access == web.Staff || (rt.Access == web.AnyLogin && c.kind == "staff") {
		reads = "staff"
	}
	if c.kind != reads {
		return expect(rt, caller{name: "anon", kind: "anon"})
	}
	return expect(rt, c)
}

// classify turns a response into an outcome class.
func classify(rt web.Route, r result) string {
	switch {
	case !rt.API && r.Status == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login"):
		return toLogin
	case r.Status == 401:
		return unauth
	case r.Status == 403:
		return forbid
	case r.Status == 404:
		return notFound
	case r.Status >= 500:
		return fmt.Sprintf("server error %d", r.Status)
	}
	return allow
}

// TestAuthorizationMatrix calls every route of Routes() as every kind of
// caller and compares the outcome with the one derived from the route table.
func TestAuthorizationMatrix(t *testing.T) {
	// a mini-program, so its routes answer; its jscode2session is the local
	// fake, which knows no code (the login answers miniprogram_code_invalid)
	jscode := httptest.NewServer(&fakeJSCode2Session{AppID: "wx00000000000000aa", Secret: "matrix", used: map[string]bool{}})
	defer jscode.Close()
	m := testkit.StartNode(t, "", "-wechat-miniprogram-appid", "wx00000000000000aa", "-wechat-miniprogram-secret", "matrix",
		"-wechat-miniprogram-base-url", jscode.URL, "-wechat-miniprogram-templates", "live_start=tmpl-live,order_ready=tmpl-ready")
	base := m.URL()
	routes := m.Server.Routes()
	if !slices.ContainsFunc(routes, func(rt web.Route) bool { return rt.Path == "/api/v1/trace/{code}" }) {
		t.Fatal("the cold-chain and trace routes are missing from the node's route table")
	}

	// Every parameterised route needs an explicit entry (and no stale ones).
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		if strings.Contains(rt.Path, "{") && !strings.HasSuffix(rt.Path, "{$}") {
			if _, ok := objectRoutes[key]; !ok {
				t.Errorf("route %s has a path parameter but no objectRoutes entry: add one (which object, whose scope)", key)
			}
		}
	}
	for key := range objectRoutes {
		if !seen[key] {
			t.Errorf("objectRoutes entry %s matches no route", key)
		}
	}
	for key := range bodies {
		if !seen[key] {
			t.Errorf("bodies entry %s matches no route", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	callers, o := setupMatrix(t, m, base)
	// Secrets of the demo merchant: never in an answer to another tenant's
	// caller on a non-public route. Stream keys reach only the room's staff.
	secrets := []string{"林店长", "13900000001", "矩阵测试商品", "矩阵门店", "matrix-target"}

	// Sessions end in the matrix (logout runs last), so these go first.
	t.Run("WebSocketTopics", func(t *testing.T) { testWSTopics(t, m, callers, o) })
	t.Run("OrderViewsPerRole", func(t *testing.T) { testOrderViews(t, m, callers, o) })
	t.Run("OrderStreamsPerRole", func(t *testing.T) { testOrderStreams(t, m, callers, o, o.otherStoreID) })
	t.Run("ShippedRoute", func(t *testing.T) { testShippedRoute(t, m, callers, o) })
	t.Run("StoreStaffSeeOwnStoreOrdersOnly", func(t *testing.T) {
		store := findCaller(callers, "store")
		r := send(t, nil, base, "GET", "/api/v1/orders/"+itoa(o.otherStoreOrd), nil, store.token, nil)
		r.wantProblem(t, 404, "not_found")
	})
	t.Run("GuidesWorkAtTheirStoreOnly", func(t *testing.T) {
		// The demo guide works at the first store: another store's order is
		// not theirs to move (the owner gets past that check to the state machine).
		guide := findCaller(callers, "guide")
		path := "/api/v1/orders/" + itoa(o.otherStoreOrd) + "/status"
		send(t, nil, base, "POST", path, map[string]string{"status": "ready"}, guide.token, nil).wantProblem(t, 404, "not_found")
		send(t, nil, base, "POST", path, map[string]string{"status": "ready"}, findCaller(callers, "owner").token, nil).wantProblem(t, 409, "invalid_transition")
	})

	// Routes that end sessions or erase the caller run last, each with a
	// session of its own so the caller's main session survives the others.
	var ordered []web.Route
	var last []web.Route
	for _, rt := range routes {
		if endsSession[rt.Method+" "+rt.Path] {
			last = append(last, rt)
		} else {
			ordered = append(ordered, rt)
		}
	}
	ordered = append(ordered, last...)

	checked, cookieChecked := 0, 0
	counts := map[string]int{}
	for _, c := range callers {
		for _, rt := range ordered {
			key := rt.Method + " " + rt.Path
			path := rt.Path
			if obj, ok := objectRoutes[key]; ok {
				path = obj.path(o)
			} else if f, ok := fixedPaths[key]; ok {
				path = f(o)
			}
			var body any
			if f, ok := bodies[key]; ok {
				body = f(o)
			} else if rt.Method != "GET" {
				body = map[string]any{}
			}
			var r result
			if key == "POST /api/v1/payments/dev/callback" {
				r = signedCallback(t, m, c.token, `{"intent":"pi_000000000000000000000000","status":"paid","amount_fen":1,"provider_ref":"matrix"}`, time.Now())
			} else {
				token := c.token
				if endsSession[key] && c.fresh != nil {
					token = c.fresh()
				}
				r = send(t, nil, base, rt.Method, path, body, token, nil)
			}
			want := expect(rt, c)
			got := classify(rt, r)
			checked++
			counts[want]++
			if want == allow && got == notFound {
				got = allow // the caller got in; the handler found nothing (unknown pickup code, comment already deleted)
			}
			if got != want {
				t.Errorf("%-8s %s %s (%s): got %s (status %d), want %s; body %.200s", c.name, rt.Method, path, accessName(rt), got, r.Status, want, r.Body)
				continue
			}
			pageRedirect := !rt.API && r.Status/100 == 3 // e.g. a GS1 Digital Link of a product to its lot's page
			if want == allow && rt.Method == "GET" && r.Status/100 != 2 && !pageRedirect && !(key == "GET /api/v1/ws" && r.Status == http.StatusUpgradeRequired) {
				t.Errorf("%-8s GET %s: permitted read answered %d: %.200s", c.name, path, r.Status, r.Body)
			}
			if rt.API && r.Status >= 400 && key != "GET /api/v1/ws" && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%-8s %s %s: API error %d is %q, not problem+json", c.name, rt.Method, path, r.Status, r.Header.Get("Content-Type"))
			}
			if !rt.API && r.Status >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%-8s GET %s: page error %d is %q, not an HTML error page", c.name, path, r.Status, r.Header.Get("Content-Type"))
			}
			ownStaff := c.kind == "staff" && c.tenant == 1
			for _, k := range o.streamKeys {
				if !ownStaff && strings.Contains(string(r.Body), k) {
					t.Errorf("%-8s %s %s: stream key leaked", c.name, rt.Method, path)
				}
			}
			if c.tenant != 1 && rt.Access != web.Public && r.Status/100 == 2 {
				for _, s := range secrets {
					if strings.Contains(string(r.Body), s) {
						t.Errorf("%-8s %s %s: other tenant sees demo data %q", c.name, rt.Method, path, s)
					}
				}
			}

			// Browsers send cookies, not bearer tokens: reads (no CSRF
			// needed) are checked again with the session as a cookie.
			if rt.Method != "GET" || c.kind == "anon" || key == "GET /api/v1/ws" || endsSession[key] || (rt.API && rt.Access == web.Public) {
				continue
			}
			cookie, hdr := "sl_viewer", map[string]string{}
			if c.kind == "staff" {
				cookie = "sl_staff"
				if rt.Access == web.AnyLogin {
					hdr["X-ShelfLive-As"] = "staff"
				}
			}
			hdr["Cookie"] = cookie + "=" + c.token
			rc := send(t, nil, base, rt.Method, path, body, "", hdr)
			wantC := expectCookie(rt, c)
			gotC := classify(rt, rc)
			cookieChecked++
			if wantC == allow && gotC == notFound {
				gotC = allow
			}
			if gotC != wantC {
				t.Errorf("%-8s %s %s (%s) with cookie %s: got %s (status %d), want %s", c.name, rt.Method, path, accessName(rt), cookie, gotC, rc.Status, wantC)
			}
		}
	}
	t.Logf("cookie sessions: %d reads checked again with the session cookie instead of the bearer token", cookieChecked)
	t.Logf("authorization matrix: %d routes × %d callers = %d requests checked (%d allow, %d 401, %d 303→login, %d 403, %d 404)",
		len(routes), len(callers), checked, counts[allow], counts[unauth], counts[toLogin], counts[forbid], counts[notFound])
	if checked != len(routes)*len(callers) {
		t.Fatalf("checked %d, want %d", checked, len(routes)*len(callers))
	}

}

func accessName(rt web.Route) string {
	switch rt.Access {
	case web.Public:
		return "public"
	case web.Customer:
		return "customer"
	case web.Staff:
		return "staff:" + string(rt.Perm)
	case web.AnyLogin:
		return "any login"
	}
	return "?"
}

func findCaller(cs []caller, name string) caller {
	for _, c := range cs {
		if c.name == name {
			return c
		}
	}
	panic("no caller " + name)
}

// testWSTopics checks the topic-level authorization of the WebSocket route:
// the staff feed of a merchant needs orders.read in that merchant and no
// store binding, a store's feed orders.read at that store, an order feed
// its buyer or staff of its merchant. Without an Upgrade header a
// permitted subscription answers 426, a refused one 404.
func testWSTopics(t *testing.T, m *node.Main, callers []caller, o *objects) {
	for _, c := range callers {
		orderAccess := c.kind == "staff" && c.tenant == 1 && identity.Can(c.role, identity.PermOrdersRead)
		// the demo store staff and guide work at the first store; the demo host at none (the brand's studio)
		bound := c.role == identity.RoleStore || c.role == identity.RoleGuide
		orderFeed := orderAccess || c.buyer
		for _, tc := range []struct {
			sub  string
			want bool
		}{
			{"staff:" + itoa(o.merchantID), orderAccess && !bound},
			{"store:" + itoa(o.demoStoreID), orderAccess},
			{"store:" + itoa(o.otherStoreID), orderAccess && !bound},
			{"order:" + itoa(o.orderID), orderFeed},
			{"room:" + itoa(o.roomID), true},
			{"mod:" + itoa(o.merchantID), c.kind == "staff" && c.tenant == 1 && identity.Can(c.role, identity.PermModerate)},
		} {
			r := send(t, nil, m.URL(), "GET", "/api/v1/ws?sub="+tc.sub, nil, c.token, nil)
			want := 404
			if tc.want {
				want = http.StatusUpgradeRequired
			}
			if r.Status != want {
				t.Errorf("%s subscribes %s: status %d, want %d", c.name, tc.sub, r.Status, want)
			}
		}
	}
}

// setupMatrix logs in one caller per role and tenant and creates the objects
// the matrix points at, all through the API except the second merchant,
// which has no sign-up route yet and is made through the identity store.
func setupMatrix(t *testing.T, m *node.Main, base string) ([]caller, *objects) {
	t.Helper()
	ctx := context.Background()
	owner := testkit.OwnerToken
	must := func(r result, status int) result {
		t.Helper()
		if r.Status != status {
			t.Fatalf("setup: status %d, want %d: %s", r.Status, status, r.Body)
		}
		return r
	}
	o := &objects{}

	// A second merchant with its own owner and customer.
	other := &identity.Merchant{Slug: "other-market", Name: "别家超市 Other Market"}
	if err := m.App.Users.CreateMerchant(ctx, other); err != nil {
		t.Fatal(err)
	}
	hash, err := identity.HashPassword("other-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.App.Users.CreateStaff(ctx, &identity.Staff{MerchantID: other.ID, Username: "other-owner", Name: "别家店主", Role: identity.RoleOwner, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	o.otherMerch = other.ID

	// An admin and a target staff account, made by the owner through the API.
	must(send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "admin1", "name": "管理员甲", "role": "admin", "password": "matrix-admin-pass"}, owner, nil), 201)
	must(send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "moderator1", "name": "场控乙", "role": "moderator", "password": "matrix-mod-pass"}, owner, nil), 201)
	var target identity.Staff
	must(send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "matrix-target", "name": "矩阵目标 Matrix target", "role": "guide", "password": "matrix-password"}, owner, nil), 201).decode(t, &target)
	o.staffID = target.ID

	// Extra sessions go through the identity service, not the API, so they
	// do not count against the per-IP login and OTP limits.
	customerSession := func(merchantID int64, phone string) func() string {
		return func() string {
			code := "246810"
			if err := m.App.Users.CreateOTP(ctx, merchantID, phone, identity.HashToken(phone+":"+code), time.Now().Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			_, token, _, err := m.App.Identity.VerifyOTP(ctx, merchantID, phone, code)
			if err != nil {
				t.Fatal(err)
			}
			return token
		}
	}
	// For staff an API token of the same role and merchant stands in: the
	// same principal for the route, without another memory-hard hash.
	staffSession := func(merchantID int64, role identity.Role) func() string {
		return func() string {
			token, _, err := m.App.Identity.CreateToken(ctx, merchantID, role, "matrix-fresh", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return token
		}
	}
	callers := []caller{{name: "anon", kind: "anon", tenant: 0}}
	buyer := viewerLogin(t, base, "demo", "13900000001")
	o.merchantID = buyer.Merchant
	if c, err := m.App.Users.UpsertCustomer(ctx, buyer.Merchant, "13900000001"); err == nil && m.App.Channels != nil {
		o.optOut = notify.OptOutToken(m.App.Channels.OptOutKey, buyer.Merchant, c.ID, notify.ChannelSMS) // a real one-tap link
	}
	callers = append(callers,
		caller{name: "buyer", kind: "customer", tenant: 1, buyer: true, token: buyer.Token, fresh: customerSession(buyer.Merchant, "13900000001")},
		caller{name: "customer", kind: "customer", tenant: 1, token: viewerLogin(t, base, "demo", "13900000002").Token, fresh: customerSession(buyer.Merchant, "13900000002")},
		caller{name: "other-customer", kind: "customer", tenant: 2, token: viewerLogin(t, base, other.Slug, "13900000009").Token, fresh: customerSession(other.ID, "13900000009")},
	)
	for _, u := range []struct {
		login string
		role  identity.Role
	}{{"owner", identity.RoleOwner}, {"admin1", identity.RoleAdmin}, {"host", identity.RoleHost}, {"guide", identity.RoleGuide}, {"quality", identity.RoleQuality}, {"store", identity.RoleStore}, {"moderator1", identity.RoleModerator}} {
		pw := "shelflive-demo"
		switch u.login {
		case "admin1":
			pw = "matrix-admin-pass" // a new account may not take the published demo password
		case "moderator1":
			pw = "matrix-mod-pass"
		}
		s := staffLogin(t, base, u.login, pw)
		if s.Role != string(u.role) {
			t.Fatalf("%s logged in with role %s", u.login, s.Role)
		}
		callers = append(callers, caller{name: string(u.role), kind: "staff", role: u.role, tenant: 1, token: s.Token, fresh: staffSession(buyer.Merchant, u.role)})
	}
	oo := staffLogin(t, base, "other-owner", "other-password")
	if oo.Merchant != other.ID {
		t.Fatalf("other owner in merchant %d", oo.Merchant)
	}
	callers = append(callers, caller{name: "other-owner", kind: "staff", role: identity.RoleOwner, tenant: 2, token: oo.Token, fresh: staffSession(other.ID, identity.RoleOwner)})

	// Objects of the demo merchant that the matrix may touch.
	var storeList struct {
		Stores []struct {
			ID int64 `json:"id"`
		} `json:"stores"`
	}
	must(send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil), 200).decode(t, &storeList)
	if len(storeList.Stores) < 2 {
		t.Fatal("demo has fewer than 2 stores")
	}
	o.demoStoreID = storeList.Stores[0].ID
	o.store = map[string]any{"name": "矩阵门店 Matrix store", "address": "上海市黄浦区测试路1号", "lat": 31.23, "lng": 121.47}
	var st struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/stores", o.store, owner, nil), 201).decode(t, &st)
	o.storeID = st.ID

	prod := map[string]any{"name": "矩阵测试商品", "storage": "chilled", "skus": []any{map[string]any{"code": "MX-1", "name": "1盒", "price_fen": 1990}}}
	var created map[string]any
	must(send(t, nil, base, "POST", "/api/v1/products", prod, owner, nil), 201).decode(t, &created)
	o.product = created
	o.productID = int64(created["id"].(float64))
	sku := created["skus"].([]any)[0].(map[string]any)
	o.skuID, o.priceFen = int64(sku["id"].(float64)), 1990

	now := time.Now().UTC()
	var lot struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/lots", map[string]any{"sku_id": o.skuID, "code": "MX-LOT-1", "produced_at": now.Add(-time.Hour), "expires_at": now.Add(72 * time.Hour)}, owner, nil), 201).decode(t, &lot)
	o.lotID = lot.ID
	for _, s := range storeList.Stores[:2] {
		must(send(t, nil, base, "PUT", "/api/v1/stock", map[string]any{"store_id": s.ID, "lot_id": o.lotID, "on_hand": 50}, owner, nil), 204)
	}

	var room struct {
		Room struct {
			ID   int64  `json:"id"`
			Slug string `json:"slug"`
		} `json:"room"`
	}
	must(send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "matrix-room", "title": "矩阵房间", "product_ids": []int64{o.productID}}, owner, nil), 201).decode(t, &room)
	o.roomSlug, o.roomID = room.Room.Slug, room.Room.ID
	for _, slug := range []string{"demo", "clearance", o.roomSlug} {
		var st struct {
			StreamKey string `json:"stream_key"`
		}
		must(send(t, nil, base, "GET", "/api/v1/rooms/"+slug, nil, owner, nil), 200).decode(t, &st)
		if st.StreamKey == "" {
			t.Fatalf("owner sees no stream key of room %s", slug)
		}
		o.streamKeys = append(o.streamKeys, st.StreamKey)
	}

	var sale struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/rooms/"+o.roomSlug+"/flash-sales", map[string]any{"sku_id": o.skuID, "store_id": o.demoStoreID, "price_fen": 990, "quantity": 5, "duration_s": 3600}, owner, nil), 201).decode(t, &sale)
	o.saleID = sale.ID

	var tok struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/auth/tokens", map[string]any{"role": "guide", "label": "matrix-revoke"}, owner, nil), 201).decode(t, &tok)
	o.tokenID = tok.ID

	// An open poll in the matrix room.
	var poll struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/rooms/"+o.roomSlug+"/polls", map[string]any{"question": "下一款?", "options": []string{"A", "B"}}, owner, nil), 201).decode(t, &poll)
	o.pollID = poll.ID
	// A co-creation draft (no votes: its pre-sale route answers
	// cocreate_no_winner and creates nothing).
	var draft struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/cocreate-drafts", map[string]any{"name": "矩阵共创", "option_groups": []map[string]any{{"name": "口味", "options": []string{"A", "B"}}}}, owner, nil), 201).decode(t, &draft)
	o.draftID = draft.ID

	// A ready clip of the matrix room (as the cutter leaves one: a row and
	// its MP4 in the object store; this node has no video to cut from).
	now = time.Now().UTC()
	cl, err := m.App.Clips.EnsureClips(ctx, o.merchantID, o.roomID, []clips.Span{{ProductID: o.productID, PinnedAt: now, From: now.Add(-clips.Lead), To: now.Add(10 * time.Second)}}, false)
	if err != nil || len(cl) != 1 {
		t.Fatalf("matrix clip: %v %+v", err, cl)
	}
	o.clipID = cl[0].ID
	if err := m.Files.Put(ctx, clips.Key(o.merchantID, o.clipID), strings.NewReader("matrix clip"), 11, "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if err := m.App.Clips.FinishClip(ctx, o.merchantID, o.clipID, clips.Ready, clips.Media{DurationMS: 10000, Bytes: 11, VideoCodec: "h264"}, ""); err != nil {
		t.Fatal(err)
	}

	// A coupon of the matrix room.
	var cp struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/coupons", map[string]any{"kind": "fixed", "title": "立减1元", "room": o.roomSlug, "amount_fen": 100, "budget_count": 50}, owner, nil), 201).decode(t, &cp)
	o.couponID = cp.ID

	// A topic group with a staff post (a recipe), a comment, and a member.
	o.groupSlug = "matrix-bakers"
	must(send(t, nil, base, "POST", "/api/v1/groups", map[string]any{"slug": o.groupSlug, "name": "矩阵烘焙群", "topic": "烘焙"}, owner, nil), 201)
	var post struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/groups/"+o.groupSlug+"/posts", map[string]any{"text": "戚风蛋糕", "recipe": map[string]any{"title": "戚风", "ingredients": []map[string]any{{"name": "草莓", "sku_id": o.skuID, "quantity": 1}}}}, owner, nil), 201).decode(t, &post)
	o.groupPostID = post.ID
	must(send(t, nil, base, "POST", "/api/v1/groups/"+o.groupSlug+"/posts", map[string]any{"text": "这篇会被隐藏"}, owner, nil), 201).decode(t, &post)
	o.groupHideID = post.ID
	var cm struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/group-posts/"+itoa(post.ID)+"/comments", map[string]any{"text": "好看"}, owner, nil), 201).decode(t, &cm)
	o.groupCommentID = cm.ID
	must(send(t, nil, base, "PUT", "/api/v1/groups/"+o.groupSlug+"/membership", nil, buyer.Token, nil), 200)
	if err := m.DB.QueryRow(context.Background(), `SELECT customer_id FROM fan_members WHERE group_id = (SELECT id FROM fan_groups WHERE slug = ?)`, o.groupSlug).Scan(&o.groupMemberID); err != nil {
		t.Fatal(err)
	}

	// A pre-sale of the demo SKU, marked reached (as the leader would at
	// its deadline) so its production order can be read.
	var ps struct {
		ID int64 `json:"id"`
	}
	deadline := time.Now().Add(time.Hour)
	must(send(t, nil, base, "POST", "/api/v1/presales", map[string]any{"title": "矩阵预售", "sku_id": o.skuID, "price_fen": 1990, "moq": 1,
		"deadline": deadline, "ship_by": deadline.Add(240 * time.Hour)}, owner, nil), 201).decode(t, &ps)
	o.presaleID = ps.ID
	if err := m.DB.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE presales SET status = 'reached', settled_at = ?, notified_at = ? WHERE id = ?`, time.Now().UnixMilli(), time.Now().UnixMilli(), ps.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A like draw in the matrix room, its prize that coupon.
	var dr struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/rooms/"+o.roomSlug+"/draws", map[string]any{"title": "福袋", "entry": "like", "winners": 1, "prize_kind": "coupon", "prize_coupon_id": cp.ID, "minutes": 30}, owner, nil), 201).decode(t, &dr)
	o.drawID = dr.ID
	// A trial of the demo SKU for pickup at the demo store, selected at
	// once (nobody applied) with its summary public.
	var tr struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/trials", map[string]any{"title": "矩阵内测", "sku_id": o.skuID, "quota": 2, "closes_at": time.Now().Add(time.Hour),
		"fulfilment": "pickup", "store_id": o.demoStoreID, "public_result": true}, owner, nil), 201).decode(t, &tr)
	o.trialID = tr.ID
	must(send(t, nil, base, "POST", "/api/v1/trials/"+itoa(tr.ID)+"/select", nil, owner, nil), 200)

	// Two webhook endpoints (one to delete) and a delivery to replay.
	for _, id := range []*int64{&o.webhookID, &o.webhookDel} {
		var ep struct {
			ID int64 `json:"id"`
		}
		must(send(t, nil, base, "POST", "/api/v1/webhooks", map[string]any{"url": "https://erp.example.com/hook", "events": []string{"order.paid"}}, owner, nil), 201).decode(t, &ep)
		*id = ep.ID
	}
	must(send(t, nil, base, "POST", "/api/v1/webhooks/"+itoa(o.webhookID)+"/test", nil, owner, nil), 202)
	var dl struct {
		Deliveries []struct {
			ID int64 `json:"id"`
		} `json:"deliveries"`
	}
	must(send(t, nil, base, "GET", "/api/v1/webhooks/"+itoa(o.webhookID)+"/deliveries", nil, owner, nil), 200).decode(t, &dl)
	o.webhookDelivery = dl.Deliveries[0].ID

	var row struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/compliance/terms", map[string]any{"term": "矩阵词", "severity": "warn"}, owner, nil), 201).decode(t, &row)
	o.termID = row.ID
	must(send(t, nil, base, "POST", "/api/v1/compliance/evidence", map[string]any{"kind": "trademark", "term": "矩阵牌", "reference": "第1号"}, owner, nil), 201).decode(t, &row)
	o.evidenceID = row.ID

	// Three comments by a bystander: one to delete, one whose author is
	// muted, one that is reported and whose author is muted for a minute.
	// (Logins stay within the per-IP OTP budget of 5; comments respect the
	// per-user minimum gap.)
	by := viewerLogin(t, base, "demo", "13900000003")
	for i := range 3 {
		var c struct {
			ID int64 `json:"id"`
		}
		var r result
		testkit.WaitFor(t, "bystander comment", 10*time.Second, func() bool {
			r = send(t, nil, base, "POST", "/api/v1/rooms/matrix-room/comments", map[string]any{"text": "旁观者评论 " + itoa(int64(i))}, by.Token, nil)
			return r.Status != http.StatusTooManyRequests
		})
		must(r, 201).decode(t, &c)
		switch i {
		case 0:
			o.commentDel = c.ID
		case 1:
			o.commentBan = c.ID
		default:
			var rep, res struct {
				ID int64 `json:"id"`
			}
			must(send(t, nil, base, "POST", "/api/v1/rooms/matrix-room/comments/"+itoa(c.ID)+"/report", map[string]any{"reason": "spam"}, buyer.Token, nil), 201).decode(t, &rep)
			must(send(t, nil, base, "POST", "/api/v1/rooms/matrix-room/comments/"+itoa(c.ID)+"/mute", map[string]any{"minutes": 1}, owner, nil), 201).decode(t, &res)
			o.reportID, o.restrictionID = rep.ID, res.ID
		}
	}

	// The buyer's paid pickup order at the store staff's store, and one at another store.
	order := func(storeID int64) int64 {
		var ord struct {
			ID int64 `json:"id"`
		}
		must(send(t, nil, base, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": o.skuID, "quantity": 1}}, "fulfilment": "pickup", "store_id": storeID}, buyer.Token, nil), 201).decode(t, &ord)
		return ord.ID
	}
	o.orderID = order(o.demoStoreID)
	o.otherStoreID = storeList.Stores[1].ID
	o.otherStoreOrd = order(o.otherStoreID)
	var in struct {
		Intent string `json:"intent"`
	}
	must(send(t, nil, base, "POST", "/api/v1/orders/"+itoa(o.orderID)+"/pay", nil, buyer.Token, nil), 200).decode(t, &in)
	o.intent = in.Intent
	must(send(t, nil, base, "POST", "/api/v1/payments/dev/"+o.intent+"/confirm", nil, "", nil), 200)
	var paid struct {
		TotalFen int64 `json:"total_fen"`
	}
	must(send(t, nil, base, "GET", "/api/v1/orders/"+itoa(o.orderID), nil, buyer.Token, nil), 200).decode(t, &paid)
	var as struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/orders/"+itoa(o.orderID)+"/aftersales",
		map[string]any{"kind": "refund_only", "reason": "changed_mind", "amount_fen": paid.TotalFen}, buyer.Token, nil), 201).decode(t, &as)
	o.aftersaleID = as.ID

	// Cold chain: the matrix lot's public trace code, a demo lot's GS1
	// Digital Link, and a real alarm from an out-of-range reading.
	var link struct {
		Code string `json:"code"`
	}
	must(send(t, nil, base, "GET", "/api/v1/coldchain/lots/"+itoa(o.lotID)+"/trace-link", nil, owner, nil), 200).decode(t, &link)
	o.traceCode = link.Code
	var demo struct {
		Products []struct {
			SKUs []struct {
				ID   int64  `json:"id"`
				GTIN string `json:"gtin"`
			} `json:"skus"`
		} `json:"products"`
	}
	must(send(t, nil, base, "GET", "/api/v1/products", nil, owner, nil), 200).decode(t, &demo)
	for _, p := range demo.Products {
		for _, k := range p.SKUs {
			if k.GTIN == "" || o.digitalLink != "" {
				continue
			}
			var lots struct {
				Lots []struct {
					ID int64 `json:"id"`
				} `json:"lots"`
			}
			must(send(t, nil, base, "GET", "/api/v1/lots?sku_id="+itoa(k.ID), nil, owner, nil), 200).decode(t, &lots)
			var dl struct {
				Path string `json:"digital_link_path"`
			}
			must(send(t, nil, base, "GET", "/api/v1/coldchain/lots/"+itoa(lots.Lots[0].ID)+"/trace-link", nil, owner, nil), 200).decode(t, &dl)
			o.digitalLink = dl.Path
		}
	}
	if o.traceCode == "" || !strings.HasPrefix(o.digitalLink, "/trace/01/") {
		t.Fatalf("trace code %q, digital link %q", o.traceCode, o.digitalLink)
	}
	var loc struct {
		ID int64 `json:"id"`
	}
	must(send(t, nil, base, "POST", "/api/v1/coldchain/locations", map[string]any{"name": "矩阵冷柜", "kind": "display_fridge", "storage_class": "chilled", "store_id": o.demoStoreID}, owner, nil), 201).decode(t, &loc)
	var dev struct {
		Token string `json:"token"`
	}
	must(send(t, nil, base, "POST", "/api/v1/coldchain/devices", map[string]any{"device_id": "matrix-fridge", "location_id": loc.ID}, owner, nil), 201).decode(t, &dev)
	at := time.Now().Add(-2 * time.Minute).UnixMilli()
	must(send(t, nil, base, "POST", "/api/v1/telemetry", map[string]any{"readings": []any{
		map[string]any{"ts": at, "values": map[string]any{"temperature": 3.5}},
		map[string]any{"ts": at + 60_000, "values": map[string]any{"temperature": 13}},
	}}, dev.Token, nil), 202)
	// The alarm is listed before its lots are held (holding follows), and a
	// hold landing later cancels the open orders of the lot: wait for the
	// holds too, or the order tests below race them.
	testkit.WaitFor(t, "a cold-chain alarm with its lots held", 10*time.Second, func() bool {
		var al struct {
			Alarms []struct {
				ID   int64 `json:"id"`
				Lots []struct {
					Held bool `json:"held"`
				} `json:"lots"`
			} `json:"alarms"`
		}
		must(send(t, nil, base, "GET", "/api/v1/coldchain/alarms", nil, owner, nil), 200).decode(t, &al)
		if len(al.Alarms) == 0 || len(al.Alarms[0].Lots) == 0 {
			return false
		}
		for _, l := range al.Alarms[0].Lots {
			if !l.Held {
				return false
			}
		}
		o.alarmID = al.Alarms[0].ID
		return true
	})
	return callers, o
}

// permissionHelp says in words what each permission allows; the generated
// table in docs/SECURITY.md shows it. A permission without an entry fails
// TestSecurityDocTables.
var permissionHelp = map[identity.Permission]string{
	identity.PermCatalogWrite:  "products, SKUs, prices, images",
	identity.PermPaymentsWrite: "the shop's WeChat Pay / Alipay accounts (keys write-only), credential checks",
	identity.PermStockWrite:    "lots and stock levels",
	identity.PermStoresWrite:   "stores",
	identity.PermRoomsWrite:    "create, schedule, edit rooms",
	identity.PermRoomHost:      "run a room: pin cards, moderate, go live/end, live price changes",
	identity.PermOrdersRead:    "see orders (contacts masked without customer.pii)",
	identity.PermOrdersFulfil:  "mark ready/shipped, verify pickup codes",
	identity.PermOrdersRefund:  "cancel and refund paid orders",
	identity.PermStaffWrite:    "staff accounts, roles, API tokens",
	identity.PermTraceWrite:    "EPCIS capture, lot holds",
	identity.PermAdminView:     "open the admin console, read catalog/stores/lots/stock",
	identity.PermAuditRead:     "read the audit log",
	identity.PermCustomerPII:   "see buyers' full phone numbers and addresses",
	identity.PermModerate:      "moderate comments: delete, mute and ban viewers, settle reports, word lists; the studio's comment column",
}

// renderPermissionTable draws identity's permission table as Markdown.
func renderPermissionTable(t *testing.T) string {
	t.Helper()
	var perms []identity.Permission
	for _, r := range identity.StaffRoles {
		for _, p := range identity.Permissions(r) {
			if !slices.Contains(perms, p) {
				perms = append(perms, p)
			}
		}
	}
	var b strings.Builder
	b.WriteString("| permission | allows |")
	for _, r := range identity.StaffRoles {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n|---|---|")
	for range identity.StaffRoles {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	for _, p := range perms {
		help, ok := permissionHelp[p]
		if !ok {
			t.Errorf("permission %s has no permissionHelp entry", p)
		}
		fmt.Fprintf(&b, "| `%s` | %s |", p, help)
		for _, r := range identity.StaffRoles {
			if identity.Can(r, p) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		b.WriteString("\n")
	}
	if len(identity.Permissions(identity.RoleViewer)) != 0 {
		t.Errorf("viewers hold staff permissions: %v", identity.Permissions(identity.RoleViewer))
	}
	return b.String()
}

// renderRouteTable draws who may call each route, from Routes().
func renderRouteTable(routes []web.Route) string {
	var b strings.Builder
	b.WriteString("| route | access | who (own merchant) |\n|---|---|---|\n")
	for _, rt := range routes {
		var who string
		switch rt.Access {
		case web.Public:
			who = "anyone"
		case web.Customer:
			who = "viewer (logged-in customer)"
		case web.AnyLogin:
			who = "viewer or any staff"
			if p, ok := handlerPerms[rt.Method+" "+rt.Path]; ok {
				who = "viewer, or staff with `" + string(p) + "`"
			}
		case web.Staff:
			var rs []string
			for _, r := range identity.StaffRoles {
				if identity.Can(r, rt.Perm) {
					rs = append(rs, string(r))
				}
			}
			who = strings.Join(rs, ", ")
		}
		kind := ""
		if !rt.API {
			kind = " (page)"
		}
		fmt.Fprintf(&b, "| `%s %s`%s | %s | %s |\n", rt.Method, rt.Path, kind, accessString(rt), who)
	}
	return b.String()
}

// allRoutes is the route table plus the cold-chain routes that
// ColdChain.Mount serves until they are part of it.
func allRoutes() []web.Route {
	routes := (&web.Server{}).Routes()
	for _, rt := range (&web.ColdChain{}).Routes() {
		if !slices.ContainsFunc(routes, func(x web.Route) bool { return x.Method == rt.Method && x.Path == rt.Path }) {
			routes = append(routes, rt)
		}
	}
	return routes
}

// TestSecurityDocTables keeps the generated tables in docs/SECURITY.md equal
// to the code. Run with SHELFLIVE_UPDATE_DOCS=1 to rewrite them.
func TestSecurityDocTables(t *testing.T) {
	const path = "../../docs/SECURITY.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, blk := range []struct{ name, body string }{
		{"permission-table", renderPermissionTable(t)},
		{"route-table", renderRouteTable(allRoutes())},
	} {
		begin, end := "<!-- "+blk.name+":begin -->\n", "<!-- "+blk.name+":end -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s: markers %q … %q not found", path, strings.TrimSpace(begin), end)
		}
		if got := doc[i+len(begin) : j]; got != blk.body {
			if os.Getenv("SHELFLIVE_UPDATE_DOCS") == "1" {
				doc = doc[:i+len(begin)] + blk.body + doc[j:]
				continue
			}
			t.Errorf("%s: the %s block differs from the code; run SHELFLIVE_UPDATE_DOCS=1 go test ./internal/web -run TestSecurityDocTables\nwant:\n%s", path, blk.name, blk.body)
		}
	}
	if os.Getenv("SHELFLIVE_UPDATE_DOCS") == "1" && doc != string(raw) {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote", path)
	}
}

// BenchmarkAuthorizedRead measures one staff API read through the whole
// stack over loopback: token lookup, permission check, tenant-scoped query.
func BenchmarkAuthorizedRead(b *testing.B) {
	m := testkit.StartNode(b, "")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := send(b, hc, m.URL(), "GET", "/api/v1/stores", nil, testkit.OwnerToken, nil); r.Status != 200 {
				b.Errorf("status %d", r.Status)
				return
			}
		}
	})
}

// BenchmarkRefusedRequest measures a request refused by the permission
// check (a guide token on an owner route): refusals must stay cheap.
func BenchmarkRefusedRequest(b *testing.B) {
	m := testkit.StartNode(b, "")
	r := send(b, nil, m.URL(), "POST", "/api/v1/auth/tokens", map[string]any{"role": "guide", "label": "bench"}, testkit.OwnerToken, nil)
	var tok struct {
		Token string `json:"token"`
	}
	r.decode(b, &tok)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := send(b, hc, m.URL(), "GET", "/api/v1/staff", nil, tok.Token, nil); r.Status != 403 {
				b.Errorf("status %d", r.Status)
				return
			}
		}
	})
}

// TestCrossTenantReferences: a second merchant's owner names the demo
// merchant's objects inside request bodies (not paths). Each request is
// refused as if the object did not exist, and the demo merchant's data stays
// as it was.
func TestCrossTenantReferences(t *testing.T) {
	m := testkit.StartNode(t, "")
	base, owner := m.URL(), testkit.OwnerToken
	ctx := t.Context()
	other := &identity.Merchant{Slug: "rival", Name: "对手超市 Rival"}
	if err := m.App.Users.CreateMerchant(ctx, other); err != nil {
		t.Fatal(err)
	}
	hash, err := identity.HashPassword("rival-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.App.Users.CreateStaff(ctx, &identity.Staff{MerchantID: other.ID, Username: "rival-owner", Name: "对手店主", Role: identity.RoleOwner, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	rival := staffLogin(t, base, "rival-owner", "rival-password").Token

	// The demo merchant's ids.
	var stores struct {
		Stores []struct {
			ID int64 `json:"id"`
		} `json:"stores"`
	}
	send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	var products struct {
		Products []struct {
			ID   int64 `json:"id"`
			SKUs []struct {
				ID int64 `json:"id"`
			} `json:"skus"`
		} `json:"products"`
	}
	send(t, nil, base, "GET", "/api/v1/products", nil, owner, nil).decode(t, &products)
	demoStore, demoProduct, demoSKU := stores.Stores[0].ID, products.Products[0].ID, products.Products[0].SKUs[0].ID
	var lots struct {
		Lots []struct {
			ID int64 `json:"id"`
		} `json:"lots"`
	}
	send(t, nil, base, "GET", "/api/v1/lots?sku_id="+itoa(demoSKU), nil, owner, nil).decode(t, &lots)
	demoLot := lots.Lots[0].ID
	buyer := viewerLogin(t, base, "demo", "13900000201")
	r := send(t, nil, base, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": demoSKU, "quantity": 1}}, "fulfilment": "pickup", "store_id": demoStore}, buyer.Token, nil)
	var ord struct {
		ID         int64  `json:"id"`
		PickupCode string `json:"pickup_code"`
	}
	r.decode(t, &ord)
	demoState := func() string {
		var b strings.Builder
		for _, p := range []string{"/api/v1/stock?sku_id=" + itoa(demoSKU), "/api/v1/rooms", "/api/v1/lots", "/api/v1/orders", "/api/v1/products/" + itoa(demoProduct), "/api/v1/staff"} {
			r := send(t, nil, base, "GET", p, nil, owner, nil)
			b.Write(r.Body)
		}
		return regexp.MustCompile(`"(viewers|likes)":\d+`).ReplaceAllString(b.String(), "")
	}

	// The rival's own room and product to point from.
	if r := send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "rival-room", "title": "对手直播间"}, rival, nil); r.Status != 201 {
		t.Fatalf("rival room: %d %s", r.Status, r.Body)
	}
	var own map[string]any
	send(t, nil, base, "POST", "/api/v1/products", map[string]any{"name": "对手商品", "skus": []any{map[string]any{"code": "R-1", "name": "一份", "price_fen": 100}}}, rival, nil).decode(t, &own)
	ownID := itoa(int64(own["id"].(float64)))
	var rivalStore struct {
		ID int64 `json:"id"`
	}
	send(t, nil, base, "POST", "/api/v1/stores", map[string]any{"name": "对手门店", "address": "上海市长宁区某路2号", "lat": 31.2, "lng": 121.4, "delivery": true}, rival, nil).decode(t, &rivalStore)
	before := demoState()
	rivalCustomer := viewerLogin(t, base, "rival", "13900000202")

	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"PinDemoProduct", rival, "POST", "/api/v1/rooms/rival-room/pin", map[string]any{"product_id": demoProduct}, 400},
		{"LineupDemoProduct", rival, "PATCH", "/api/v1/rooms/rival-room", map[string]any{"product_ids": []int64{demoProduct}}, 400},
		{"StockOfDemoLot", rival, "PUT", "/api/v1/stock", map[string]any{"store_id": demoStore, "lot_id": demoLot, "on_hand": 0}, 400},
		{"LotOfDemoSKU", rival, "POST", "/api/v1/lots", map[string]any{"sku_id": demoSKU, "code": "X1", "produced_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z"}, 400},
		{"FlashSaleOfDemoSKU", rival, "POST", "/api/v1/rooms/rival-room/flash-sales", map[string]any{"sku_id": demoSKU, "store_id": demoStore, "price_fen": 1, "quantity": 1}, 400},
		{"ClaimDemoSKU", rival, "PUT", "/api/v1/products/" + ownID, map[string]any{"name": "对手商品", "skus": []any{map[string]any{"id": demoSKU, "code": "R-1", "name": "一份", "price_fen": 1}}}, 400},
		{"PickupDemoOrder", rival, "POST", "/api/v1/pickups/verify", map[string]any{"code": ord.PickupCode, "confirm": true}, 404},
		{"BuyDemoSKU", rivalCustomer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": demoSKU, "quantity": 1}}, "fulfilment": "pickup", "store_id": rivalStore.ID}, 400},
		{"PickupAtDemoStore", rivalCustomer.Token, "POST", "/api/v1/orders", map[string]any{"items": []any{map[string]any{"sku_id": own["skus"].([]any)[0].(map[string]any)["id"], "quantity": 1}}, "fulfilment": "pickup", "store_id": demoStore}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, nil, base, tc.method, tc.path, tc.body, tc.token, nil)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if after := demoState(); after != before {
				t.Fatalf("the demo merchant's data changed")
			}
		})
	}
	t.Run("StaffAtDemoStore", func(t *testing.T) {
		r := send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "rival-store", "name": "店员", "role": "store", "store_id": demoStore, "password": "long-enough-1"}, rival, nil)
		r.wantProblem(t, 400, "unknown_store")
	})
	t.Run("RoomWithDemoLineup", func(t *testing.T) {
		send(t, nil, base, "POST", "/api/v1/rooms", map[string]any{"slug": "rival-room-2", "title": "t", "product_ids": []int64{demoProduct}}, rival, nil).wantProblem(t, 400, "unknown_product")
		send(t, nil, base, "GET", "/api/v1/rooms/rival-room-2", nil, "", nil).wantProblem(t, 404, "not_found")
	})
}
