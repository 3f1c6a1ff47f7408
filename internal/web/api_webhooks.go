package web

import (
	"net/http"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// webhookRoutes are the outgoing-webhook settings: owners subscribe
// endpoints, read the delivery log and replay (docs/WEBHOOKS.md).
func (s *Server) webhookRoutes() []Route {
	api := func(method, path, summary string, h func(w http.ResponseWriter, r *http.Request) error) Route {
		return Route{Method: method, Path: path, Access: Staff, Perm: identity.PermStaffWrite, API: true, Summary: summary, handler: h}
	}
	return []Route{
		api("GET", "/api/v1/webhooks", "List webhook endpoints and the event types they may subscribe to", s.apiListWebhooks),
		api("POST", "/api/v1/webhooks", "Subscribe an endpoint (its signing secret is shown once)", s.apiCreateWebhook),
		api("PATCH", "/api/v1/webhooks/{id}", "Change an endpoint (URL, events, enabled)", s.apiUpdateWebhook),
		api("DELETE", "/api/v1/webhooks/{id}", "Remove an endpoint and its delivery log", s.apiDeleteWebhook),
		api("POST", "/api/v1/webhooks/{id}/rotate-secret", "Give an endpoint a new signing secret (shown once)", s.apiRotateWebhook),
		api("POST", "/api/v1/webhooks/{id}/test", "Send a webhook.test message to an endpoint", s.apiTestWebhook),
		api("GET", "/api/v1/webhooks/{id}/deliveries", "An endpoint's newest deliveries (the delivery log)", s.apiWebhookDeliveries),
		api("POST", "/api/v1/webhook-deliveries/{id}/replay", "Send a delivered or failed message again (same webhook-id)", s.apiReplayWebhook),
	}
}

func (s *Server) apiListWebhooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Webhooks.Endpoints(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Secret = ""
	}
	return writeJSON(w, 200, map[string]any{"endpoints": list, "event_types": webhooks.EventTypes})
}

func (s *Server) apiCreateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in app.WebhookInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.App.CreateWebhook(r.Context(), PrincipalFrom(r.Context()), in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, e)
}

func (s *Server) apiUpdateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in app.WebhookInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.App.UpdateWebhook(r.Context(), PrincipalFrom(r.Context()), id, in, false)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, e)
}

func (s *Server) apiRotateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.App.UpdateWebhook(r.Context(), PrincipalFrom(r.Context()), id, app.WebhookInput{}, true)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, e)
}

func (s *Server) apiDeleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.App.DeleteWebhook(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiTestWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.App.TestWebhook(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) apiWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if _, err := s.App.Webhooks.Endpoint(r.Context(), p.MerchantID, id); err != nil {
		return err
	}
	list, err := s.App.Webhooks.Deliveries(r.Context(), p.MerchantID, id, 100)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"deliveries": list})
}

func (s *Server) apiReplayWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.App.ReplayWebhookDelivery(r.Context(), PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, 202, d)
}
