package node

import (
	"net/http"
	"strings"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// epcisAuthorizer lets staff read the merchant's EPCIS events and lets
// callers with the trace permission (quality, owner) capture. Capture needs a
// bearer token: a browser cookie alone must not be able to post events.
func epcisAuthorizer(a *app.App) func(r *http.Request) (int64, bool, error) {
	return func(r *http.Request) (int64, bool, error) {
		token, bearer := "", false
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			token, bearer = strings.TrimPrefix(h, "Bearer "), true
		} else if c, err := r.Cookie("sl_staff"); err == nil {
			token = c.Value
		}
		p, err := a.Identity.Authenticate(r.Context(), token)
		if err != nil {
			return 0, false, err
		}
		if !p.IsStaff() {
			return 0, false, apperr.ErrForbidden
		}
		return p.MerchantID, bearer && identity.Can(p.Role, identity.PermTraceWrite), nil
	}
}
