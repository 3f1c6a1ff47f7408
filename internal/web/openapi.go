package web

import (
	_ "embed"
	"net/http"
)

// openapiDoc is written by hand and checked against Routes() by a test, so
// the document and the router can never drift apart silently.
//
//go:embed openapi/openapi.json
var openapiDoc []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openapiDoc)
	return err
}
