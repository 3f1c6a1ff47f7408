package web

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/insight"
	"github.com/shelflive/shelflive/internal/presale"
)

// presaleRoutes: pre-sales to a minimum order (以销定产). Staff open them
// and download the production order; buyers commit (deposit or full
// price) and pay the balance; anyone with the link sees the progress.
func (s *Server) presaleRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/presale/{id}", Access: Public, Summary: "A pre-sale's page: progress, the money rule, join and pay (mobile)", handler: s.pagePresale},
		api("GET", "/api/v1/presales", Staff, identity.PermAdminView, "The merchant's pre-sales with their progress, newest first", s.apiListPresales),
		api("POST", "/api/v1/presales", Staff, identity.PermCatalogWrite, "Open a pre-sale to a minimum order quantity (deposit or full price)", s.apiCreatePresale),
		api("GET", "/api/v1/presales/{id}", Public, "", "A pre-sale's public state and progress", s.apiPresale),
		api("GET", "/api/v1/presales/{id}/mine", Customer, "", "The viewer's orders in a pre-sale (deposits with their balance)", s.apiMyPresale),
		api("POST", "/api/v1/presales/{id}/commit", Customer, "", "Join a pre-sale: a deposit or full-price order without stock, paid like any order (Idempotency-Key)", s.apiCommitPresale),
		api("POST", "/api/v1/presales/{id}/balance", Customer, "", "The balance order (尾款) of a paid deposit once the pre-sale reached its minimum", s.apiPresaleBalance),
		api("GET", "/api/v1/presales/{id}/production.csv", Staff, identity.PermOrdersRead, "The production order of a reached pre-sale (CSV, UTF-8 with BOM)", s.apiProductionCSV),
		api("GET", "/api/v1/presales/{id}/production.xlsx", Staff, identity.PermOrdersRead, "The production order of a reached pre-sale (XLSX)", s.apiProductionXLSX),
	}
}

func (s *Server) apiListPresales(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Presales.Presales(r.Context(), p.MerchantID, presale.Filter{Status: presale.Status(r.URL.Query().Get("status"))})
	if err != nil {
		return err
	}
	if list == nil {
		list = []presale.Presale{}
	}
	return writeJSON(w, 200, map[string]any{"presales": list})
}

func (s *Server) apiCreatePresale(w http.ResponseWriter, r *http.Request) error {
	var in app.PresaleInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ps, err := s.App.CreatePresale(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, ps)
}

// publicPresale loads a pre-sale by the id in the path; a closed shop's
// pre-sales are gone like its rooms.
func (s *Server) publicPresale(r *http.Request) (*presale.Presale, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	ps, err := s.App.Presales.PublicPresale(r.Context(), id)
	if err != nil {
		return nil, err
	}
	m, err := s.App.Users.Merchant(r.Context(), ps.MerchantID)
	if err != nil {
		return nil, err
	}
	if m.Disabled {
		return nil, identity.ErrShopClosed
	}
	return ps, nil
}

func (s *Server) apiPresale(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.publicPresale(r)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, ps)
}

// ownPresale is the pre-sale named in the path, when it is of the caller's shop.
func (s *Server) ownPresale(r *http.Request) (*identity.Principal, *presale.Presale, error) {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return nil, nil, err
	}
	ps, err := s.App.Presales.Presale(r.Context(), p.MerchantID, id)
	return p, ps, err
}

func (s *Server) apiMyPresale(w http.ResponseWriter, r *http.Request) error {
	p, ps, err := s.ownPresale(r)
	if err != nil {
		return err
	}
	list, err := s.App.Presales.Commitments(r.Context(), p.MerchantID, ps.ID, p.SubjectID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"presale": ps, "commitments": list})
}

func (s *Server) apiCommitPresale(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in app.CommitInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limit(w, "order:"+identityKey(p), 5, 20); err != nil {
		return err
	}
	o, created, err := s.App.CommitPresale(r.Context(), p, id, in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return writeJSON(w, status, app.OrderView(p, o))
}

func (s *Server) apiPresaleBalance(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		OrderID int64 `json:"order_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.App.PayBalance(r.Context(), p, id, in.OrderID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, app.OrderView(p, o))
}

func (s *Server) production(r *http.Request) ([]insight.Sheet, *presale.Production, error) {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return nil, nil, err
	}
	prod, err := s.App.Presales.Production(r.Context(), p.MerchantID, id)
	if err != nil {
		return nil, nil, err
	}
	var sheets []insight.Sheet
	for _, t := range prod.Tables() {
		sheets = append(sheets, insight.Sheet{Name: t.Name, Rows: t.Rows})
	}
	return sheets, prod, nil
}

func (s *Server) apiProductionCSV(w http.ResponseWriter, r *http.Request) error {
	sheets, prod, err := s.production(r)
	if err != nil {
		return err
	}
	csvHeaders(w, fmt.Sprintf("presale-%d-production.csv", prod.Presale.ID))
	return insight.WriteSheetsCSV(w, sheets)
}

func (s *Server) apiProductionXLSX(w http.ResponseWriter, r *http.Request) error {
	sheets, prod, err := s.production(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := insight.WriteSheetsXLSX(&buf, sheets); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="presale-%d-production.xlsx"`, prod.Presale.ID))
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// pagePresale is the pre-sale's own page (shared links, the room's card):
// progress, the promised date, the money rule, and for a logged-in buyer
// of the shop the join form and their orders (deposit, balance).
func (s *Server) pagePresale(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.publicPresale(r)
	if err != nil {
		return err
	}
	m, err := s.App.Users.Merchant(r.Context(), ps.MerchantID)
	if err != nil {
		return err
	}
	data := map[string]any{"Presale": ps, "MerchantSlug": m.Slug, "Merchant": m.Slug}
	if ps.RoomID != 0 {
		if room, err := s.App.Live.Room(r.Context(), ps.MerchantID, ps.RoomID); err == nil {
			data["RoomSlug"] = room.Slug
		}
	}
	p := PrincipalFrom(r.Context())
	if p != nil && p.Kind == identity.KindCustomer && p.MerchantID == ps.MerchantID {
		data["Viewer"] = p
		list, err := s.App.Presales.Commitments(r.Context(), p.MerchantID, ps.ID, p.SubjectID)
		if err != nil {
			return err
		}
		data["Mine"] = list
		stores, err := s.App.Stores.ListStores(r.Context(), ps.MerchantID)
		if err != nil {
			return err
		}
		data["Stores"] = stores
	}
	http.SetCookie(w, &http.Cookie{Name: merchantCookie, Value: m.Slug, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return s.render(w, r, 200, "presale.html", data)
}
