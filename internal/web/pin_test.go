package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shelflive/shelflive/internal/testkit"
)

// TestPinMatchesItsEvent: the pin answer and the card.pinned event a viewer
// receives carry the same pin_id, so a client can match request and event
// (docs/PROTOCOL.md); a bad topic answers 400 invalid_subscription.
func TestPinMatchesItsEvent(t *testing.T) {
	s := newShop(t)
	room := getDemoRoom(t, s.base)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wsURL := strings.Replace(s.base, "http", "ws", 1) + "/api/v1/ws?sub=room:" + itoa(room.ID)
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	var pinned struct {
		PinID string `json:"pin_id"`
	}
	send(t, nil, s.base, "POST", "/api/v1/rooms/demo/pin", map[string]any{"product_id": room.ProductIDs[1]}, testkit.OwnerToken, nil).want(t, 200).decode(t, &pinned)
	if pinned.PinID == "" {
		t.Fatal("pin answer has no pin_id")
	}
	for {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no card.pinned event with pin_id %s: %v", pinned.PinID, err)
		}
		var f struct {
			T    string `json:"t"`
			Type string `json:"type"`
			Data struct {
				PinID string `json:"pin_id"`
			} `json:"data"`
		}
		json.Unmarshal(raw, &f)
		if f.T == "ev" && f.Type == "card.pinned" {
			if f.Data.PinID != pinned.PinID {
				t.Fatalf("event pin_id %q, answer %q", f.Data.PinID, pinned.PinID)
			}
			break
		}
	}
	for _, bad := range []string{"room:demo", "basket:1", "room:" + itoa(room.ID) + "@x"} {
		send(t, nil, s.base, "GET", "/api/v1/ws?sub="+bad, nil, "", nil).wantProblem(t, 400, "invalid_subscription")
	}
}
