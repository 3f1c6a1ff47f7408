package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/identity"
)

// Compliance serves the advertising-law review: checking texts, the rules
// in force, each merchant's own terms and evidence, and a room's script
// (reviewed before the room goes live). Its Routes() are appended to
// Server.Routes(); the go-live gate itself sits in app.SetRoomStatus.
type Compliance struct{ Server *Server }

// Routes lists the compliance routes for the one route table.
func (c *Compliance) Routes() []Route {
	S := Staff
	api := func(method, path string, perm identity.Permission, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: S, Perm: perm, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("POST", "/api/v1/compliance/check", identity.PermRoomHost, "Review texts against the advertising and food-claim rules", c.apiCheck),
		api("GET", "/api/v1/compliance/rules", identity.PermAdminView, "The rules in force: base rules (versioned) and the merchant's terms and evidence", c.apiRules),
		api("POST", "/api/v1/compliance/terms", identity.PermCatalogWrite, "Add a term of the merchant's own (block, warn, needs_evidence or allow)", c.apiAddTerm),
		api("DELETE", "/api/v1/compliance/terms/{id}", identity.PermCatalogWrite, "Remove a term of the merchant's own", c.apiDeleteTerm),
		api("POST", "/api/v1/compliance/evidence", identity.PermCatalogWrite, "Put evidence on file (trademark, certificate, ranking, price record)", c.apiAddEvidence),
		api("DELETE", "/api/v1/compliance/evidence/{id}", identity.PermCatalogWrite, "Remove evidence", c.apiDeleteEvidence),
		api("GET", "/api/v1/rooms/{slug}/script", identity.PermRoomHost, "A room's host script with its review", c.apiScript),
		api("PUT", "/api/v1/rooms/{slug}/script", identity.PermRoomHost, "Save a room's host script; answers its review", c.apiSaveScript),
		api("GET", "/api/v1/rooms/{slug}/compliance", identity.PermRoomHost, "The go-live review of a room (title, script, lineup texts)", c.apiRoomReview),
	}
}

// ErrComplianceOff answers when the node runs without the review.
var ErrComplianceOff = apperr.New(apperr.Conflict, "compliance_off", "合规审查未启用", "The compliance review is switched off on this server.")

func (c *Compliance) service() (*compliance.Service, error) {
	if c.Server.App.Compliance == nil {
		return nil, ErrComplianceOff
	}
	return c.Server.App.Compliance, nil
}

func (c *Compliance) apiCheck(w http.ResponseWriter, r *http.Request) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	var in struct {
		Texts       []string               `json:"texts"`
		Context     compliance.Context     `json:"context"`
		ProductType compliance.ProductType `json:"product_type"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	results, err := svc.Check(r.Context(), p.MerchantID, in.Texts, compliance.Input{Context: in.Context, ProductType: in.ProductType})
	if err != nil {
		return err
	}
	rs, err := svc.Rules(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"results": results, "rules_version": rs.Version()})
}

func (c *Compliance) apiRules(w http.ResponseWriter, r *http.Request) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	terms, err := svc.Store.Terms(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	ev, err := svc.Store.Evidence(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	base := compliance.Base()
	return writeJSON(w, 200, map[string]any{"version": base.Version(), "rules": base.Rules(), "terms": terms, "evidence": ev, "evidence_kinds": compliance.EvidenceKinds})
}

func (c *Compliance) apiAddTerm(w http.ResponseWriter, r *http.Request) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	var t compliance.Term
	if err := decodeJSON(r, &t); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	t.ID, t.MerchantID, t.CreatedBy = 0, p.MerchantID, p.Name
	if err := svc.Store.AddTerm(r.Context(), &t); err != nil {
		return err
	}
	svc.Forget(p.MerchantID)
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "compliance.term.add", fmt.Sprintf("term:%d", t.ID), string(t.Severity)+" "+t.Term)
	return writeJSON(w, 201, t)
}

func (c *Compliance) apiDeleteTerm(w http.ResponseWriter, r *http.Request) error {
	return c.deleteRow(w, r, "compliance.term.delete", "term", func(svc *compliance.Service, m, id int64) error { return svc.Store.DeleteTerm(r.Context(), m, id) })
}

func (c *Compliance) apiDeleteEvidence(w http.ResponseWriter, r *http.Request) error {
	return c.deleteRow(w, r, "compliance.evidence.delete", "evidence", func(svc *compliance.Service, m, id int64) error { return svc.Store.DeleteEvidence(r.Context(), m, id) })
}

func (c *Compliance) deleteRow(w http.ResponseWriter, r *http.Request, action, kind string, del func(*compliance.Service, int64, int64) error) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := del(svc, p.MerchantID, id); err != nil {
		return err
	}
	svc.Forget(p.MerchantID)
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, action, fmt.Sprintf("%s:%d", kind, id), "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Compliance) apiAddEvidence(w http.ResponseWriter, r *http.Request) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	var e compliance.Evidence
	if err := decodeJSON(r, &e); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	e.ID, e.MerchantID, e.CreatedBy = 0, p.MerchantID, p.Name
	if e.ValidUntil != nil {
		t := e.ValidUntil.UTC()
		e.ValidUntil = &t
	}
	if err := svc.Store.AddEvidence(r.Context(), &e); err != nil {
		return err
	}
	svc.Forget(p.MerchantID)
	c.Server.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "compliance.evidence.add", fmt.Sprintf("evidence:%d", e.ID), e.Kind+" "+e.Term+" "+e.Reference)
	return writeJSON(w, 201, e)
}

func (c *Compliance) apiScript(w http.ResponseWriter, r *http.Request) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	room, err := c.Server.roomOwned(r)
	if err != nil {
		return err
	}
	body, err := svc.Store.Script(r.Context(), room.MerchantID, room.ID)
	if err != nil {
		return err
	}
	return c.writeScript(w, r, svc, room.MerchantID, body)
}

func (c *Compliance) apiSaveScript(w http.ResponseWriter, r *http.Request) error {
	svc, err := c.service()
	if err != nil {
		return err
	}
	room, err := c.Server.roomOwned(r)
	if err != nil {
		return err
	}
	var in struct {
		Script string `json:"script"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := svc.Store.SetScript(r.Context(), room.MerchantID, room.ID, in.Script, p.Name); err != nil {
		return err
	}
	return c.writeScript(w, r, svc, room.MerchantID, in.Script)
}

func (c *Compliance) writeScript(w http.ResponseWriter, r *http.Request, svc *compliance.Service, merchantID int64, body string) error {
	res, err := svc.Check(r.Context(), merchantID, []string{body}, compliance.Input{Context: compliance.CtxScript})
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"script": body, "review": res[0]})
}

func (c *Compliance) apiRoomReview(w http.ResponseWriter, r *http.Request) error {
	room, err := c.Server.roomOwned(r)
	if err != nil {
		return err
	}
	rev, err := c.Server.App.ReviewRoom(r.Context(), room)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, rev)
}

// writeProblemWith writes a problem+json answer with one extension member
// (RFC 9457 §3.2), e.g. the findings that refused a go-live.
func writeProblemWith(w http.ResponseWriter, r *http.Request, e *apperr.Error, key string, val any) {
	status := StatusOf(e.Kind)
	detail := e.Message
	if langOf(r) == "en" {
		detail = e.English
	}
	doc := map[string]any{"type": "https://shelflive.dev/problems/" + e.Code, "title": e.English, "status": status,
		"detail": detail, "code": e.Code, "instance": r.URL.Path, key: val}
	if e.Field != "" {
		doc["field"] = e.Field
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(doc)
}
