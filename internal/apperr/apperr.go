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
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.English, e.Err)
	}
	return e.Code + ": " + e.English
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error with a bilingual message.
func New(kind Kind, code, zh, en string) *Error {
	return &Error{Kind: kind, Code: code, Message: zh, English: en}
}

// With returns a copy of e whose messages name the case at hand (a store,
// a lot). The code and kind stay; errors.Is(copy, e) still holds.
func (e *Error) With(zh, en string) *Error {
	c := *e
	c.Message, c.English, c.Err = zh, en, e
	return &c
}

// Invalidf is the common case: a field that fails validation.
func InvalidField(field, code, zh, en string) *Error {
	return &Error{Kind: Invalid, Code: code, Message: zh, English: en, Field: field}
}

// As returns the *Error in err's chain, or an internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Code: "internal", Message: "服务器内部错误，请稍后再试", English: "Internal error.", Err: err}
}

// Is reports whether err carries the given code.
func Is(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Common errors shared by several domains.
var (
	ErrNotFound     = New(NotFound, "not_found", "找不到该内容", "Not found.")
	ErrUnauthorized = New(Unauthorized, "unauthorized", "请先登录", "Please log in.")
	ErrForbidden    = New(Forbidden, "forbidden", "没有权限执行此操作", "You are not allowed to do this.")
)
