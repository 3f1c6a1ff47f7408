package web

import (
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/realtime/ws"
)

// Errors of the HTTP layer itself: the request's shape, before any domain
// sees it. Domain errors are declared in their domains.
var (
	errBodyTooLarge        = apperr.New(apperr.Invalid, "body_too_large", "请求内容过大", "Request body too large.")
	errUnsupportedMedia    = apperr.New(apperr.Invalid, "unsupported_media_type", "请求须为 JSON", "Send application/json.")
	errEmptyBody           = apperr.New(apperr.Invalid, "empty_body", "请求内容为空", "Empty request body.")
	errMalformedJSON       = apperr.New(apperr.Invalid, "malformed_json", "JSON 格式错误", "Malformed JSON.")
	errInvalidUpload       = apperr.InvalidField("file", "invalid_upload", "请上传图片文件（最大8MB）", "Upload an image file (max 8 MB).")
	errInvalidDate         = apperr.InvalidField("from", "invalid_date", "日期须为 YYYY-MM-DD", "Dates are YYYY-MM-DD.")
	errInvalidLot          = apperr.InvalidField("lot_id", "invalid_lot", "批次编号无效", "Invalid lot_id.")
	errInvalidSubscription = ws.ErrInvalidSubscription // the WebSocket adapter answers it too
	errInvalidFormat       = apperr.InvalidField("format", "invalid_format", "格式须为 json、csv 或 txt", "format must be json, csv or txt.")
)
