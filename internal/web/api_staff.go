package web

// Staff accounts and the audit log: the owner's and admin's handlers for
// the people who work the shop (moved out of api_orders.go).

import (
	"errors"
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/stores"
)

func (s *Server) apiListStaff(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Users.ListStaff(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []identity.Staff{}
	}
	return writeJSON(w, 200, map[string]any{"staff": list})
}

// checkStore refuses a store that is not the merchant's.
func (s *Server) checkStore(r *http.Request, merchantID, storeID int64) error {
	if storeID == 0 {
		return nil
	}
	_, err := s.App.Stores.Store(r.Context(), merchantID, storeID)
	if errors.Is(err, apperr.ErrNotFound) {
		return stores.ErrUnknownStore
	}
	return err // nil, or an outage: never "unknown store"
}

func (s *Server) apiCreateStaff(w http.ResponseWriter, r *http.Request) error {
	var in app.StaffInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	st, err := s.App.CreateStaff(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, st)
}

func (s *Server) apiUpdateStaff(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.App.Users.Staff(r.Context(), p.MerchantID, id) // another tenant's is not found, before the body is read
	if err != nil {
		return err
	}
	var in app.StaffInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if st, err = s.App.UpdateStaff(r.Context(), p, st, in); err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.AuditLog(r.Context(), PrincipalFrom(r.Context()).MerchantID, 200)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"entries": list})
}
