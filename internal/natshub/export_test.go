package natshub

// Test hooks: a NATS outage cannot be staged on the shared test server, so
// tests mark an event as lost and run the repair the hub runs every 500 ms.
func (h *Hub) MarkLostForTest(topic string) { h.markLost(topic) }
func (h *Hub) RepairLostForTest()           { h.repairLost() }
