// Package apperr is ShelfLive's one application error type: a stable machine
// code, a kind that decides the HTTP status, and messages that are safe to show
// to users in Chinese and English. Internal errors never leak their text.
package apperr

import (
	"errors"
	"fmt"
)

// Kind groups codes by how a client should react; the HTTP adapter maps kinds to statuses.
type Kind int

const (
	Internal     Kind = iota // a bug or an outage; details are logged, never shown
	Invalid                  // the request is malformed or breaks a rule (400/422)
	NotFound                 // no such object for this caller (404, also for other tenants' objects)
	Conflict                 // state does not allow it: out of stock, already paid (409)
	Unauthorized             // no valid credentials (401)
	Forbidden                // credentials lack the permission (403)
	TooMany                  // rate limited or shedding load (429)
	Gone                     // expired: reservation, OTP (410)
	WrongMethod              // the route exists, not with this method (405)
	Unavailable              // an outside service (payment vendor, SMS provider) failed or answered wrongly (502)
)

// Error is returned by domain services for anything a user may see.
type Error struct {
	Kind    Kind
	Code    string // stable, snake_case, documented in the OpenAPI document
	Message string // zh-CN, safe to show
	English string // en, safe to show
	Field   string // the offending input field, when there is one
	Err     error  // the cause, for logs only

	of *Error // the declared error this one was made from (At, With, Wrap)
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.English, e.Err)
	}
	return e.Code + ": " + e.English
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, Declared) true for every error made from Declared
// with At, With or Wrap, so a code is declared once, as a named variable, and
// callers match that variable instead of comparing code strings.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e.of != nil && e.of == t
}

// At returns a copy of e about one input field (for a spreadsheet, a cell
// such as csvfile.Row.At gives). errors.Is(copy, e) holds.
func (e *Error) At(field string) *Error {
	c := e.derive()
	c.Field = field
	return c
}

// With returns a copy of e with a message that says more (which row, which
// value, why here). Code and kind stay; errors.Is(copy, e) holds.
func (e *Error) With(zh, en string) *Error {
	c := e.derive()
	c.Message, c.English = zh, en
	return c
}

// Wrap returns a copy of e that carries cause for the logs (never shown).
// errors.Is(copy, e) holds, and so does errors.Is(copy, cause).
func (e *Error) Wrap(cause error) *Error {
	c := e.derive()
	c.Err = cause
	return c
}

func (e *Error) derive() *Error {
	c := *e
	if c.of == nil {
		c.of = e
	}
	return &c
}

// New declares an error with a bilingual message. Declare each code once,
// as a package-level variable in the domain that owns it; other places
// return that variable or a copy made with At, With or Wrap.
func New(kind Kind, code, zh, en string) *Error {
	return &Error{Kind: kind, Code: code, Message: zh, English: en}
}

// InvalidField declares the common case: an input field that fails
// validation (kind Invalid).
func InvalidField(field, code, zh, en string) *Error {
	return &Error{Kind: Invalid, Code: code, Message: zh, English: en, Field: field}
}

// As returns the *Error in err's chain, or an internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal.Wrap(err)
}

// NotFoundAs returns as when err is ErrNotFound (a store found no such row)
// and err itself otherwise, so a database failure stays a failure and never
// reads as bad input: return apperr.NotFoundAs(err, catalog.ErrUnknownProduct).
func NotFoundAs(err error, as error) error {
	if errors.Is(err, ErrNotFound) {
		return as
	}
	return err
}

// Is reports whether err carries the given code. It is for tests and
// clients, which see only the code; ShelfLive code matches the declared
// variable with errors.Is.
func Is(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Common errors shared by several domains.
var (
	// ErrInternal is what users see of a bug or an outage (As wraps the cause).
	ErrInternal     = New(Internal, "internal", "服务器内部错误，请稍后再试", "Internal error.")
	ErrNotFound     = New(NotFound, "not_found", "找不到该内容", "Not found.")
	ErrUnauthorized = New(Unauthorized, "unauthorized", "请先登录", "Please log in.")
	ErrForbidden    = New(Forbidden, "forbidden", "没有权限执行此操作", "You are not allowed to do this.")

	// ErrBusy sheds load: the client should retry in a moment (the
	// database is busy, the flash-sale queue is full, a node fails over).
	ErrBusy = New(TooMany, "busy_retry", "系统繁忙，请稍后重试", "Busy; please try again.")
	// ErrConflict is a unique key the request would duplicate.
	ErrConflict = New(Conflict, "conflict", "数据已存在", "Already exists.")
	// ErrConstraint is a change the database's CHECK constraints refuse.
	ErrConstraint = New(Conflict, "constraint", "操作违反了数据约束", "The change breaks a data rule.")
	// ErrLoginRequired asks an anonymous caller to log in first.
	ErrLoginRequired = New(Unauthorized, "login_required", "请先用手机号登录", "Log in with your phone number first.")
	// ErrInvalidTransition refuses a step the object's status does not allow.
	ErrInvalidTransition = New(Conflict, "invalid_transition", "状态不允许此操作", "Not allowed in the current status.")
)

// Codes several domains give the same kind of bad input. Each caller names
// its field (At) and, where it helps the user, says more (With).
var (
	ErrInvalidName     = InvalidField("name", "invalid_name", "名称无效", "Invalid name.")
	ErrInvalidPrice    = InvalidField("price_fen", "invalid_price", "价格无效", "Invalid price.")
	ErrInvalidQuantity = InvalidField("quantity", "invalid_quantity", "数量无效", "Invalid quantity.")
	ErrInvalidStatus   = InvalidField("status", "invalid_status", "状态无效", "Invalid status.")
	ErrInvalidLocation = InvalidField("location_id", "invalid_location", "位置无效", "Invalid location.")
	ErrInvalidSlug     = InvalidField("slug", "invalid_slug", "标识无效", "Invalid slug.")
	ErrUnknownField    = InvalidField("", "unknown_field", "未知字段", "Unknown field.")
	ErrInvalidTexts    = InvalidField("texts", "invalid_texts", "文字列表无效", "Invalid texts.")
	// ErrInvalidProductType: product_type is ordinary_food, health_food or
	// none (catalog products and the compliance check share the code).
	ErrInvalidProductType = InvalidField("product_type", "invalid_product_type", "product_type 须为 ordinary_food/health_food/none", "product_type must be ordinary_food, health_food or none.")
	ErrInvalidDecision    = InvalidField("decision", "invalid_decision", "处理决定无效", "Invalid decision.")
	ErrReasonTooLong      = InvalidField("reason", "reason_too_long", "理由太长", "The reason is too long.")
	ErrInvalidScope       = InvalidField("scope", "invalid_scope", "范围无效", "Invalid scope.")
)
