package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/secretbox"
	"github.com/shelflive/shelflive/internal/webhooks"
)

// WebhookStore keeps webhook endpoints and deliveries (the outbox and the
// delivery log in one table).
type WebhookStore struct {
	DB *DB
	// Box seals signing secrets at rest with SHELFLIVE_SECRET_KEY, bound to
	// the merchant; nil stores them as they are (tests).
	Box *secretbox.Box
}

// seal and open keep a secret sealed in the database and plain in memory.
// A value that is not sealed (written without a Box) reads as it is.
func (s *WebhookStore) seal(merchantID int64, secret string) string {
	if s.Box == nil {
		return secret
	}
	return s.Box.Seal([]byte(secret), fmt.Sprintf("webhook:merchant:%d", merchantID))
}

func (s *WebhookStore) open(merchantID int64, stored string) (string, error) {
	if s.Box == nil || strings.HasPrefix(stored, "whsec_") {
		return stored, nil
	}
	plain, err := s.Box.Open(stored, fmt.Sprintf("webhook:merchant:%d", merchantID))
	if err != nil {
		return "", fmt.Errorf("webhooks: secret of merchant %d does not open (another SHELFLIVE_SECRET_KEY?): %w", merchantID, err)
	}
	return string(plain), nil
}

var _ webhooks.Store = (*WebhookStore)(nil)

// claimFor is how long a taken delivery stays invisible to other passes: a
// node that dies mid-send leaves it due again after this (at-least-once).
const claimFor = time.Minute

const endpointCols = `id, merchant_id, url, description, events, secret, enabled, disabled_reason, failures, created_at`

func (s *WebhookStore) scanEndpoint(row interface{ Scan(...any) error }) (*webhooks.Endpoint, error) {
	var e webhooks.Endpoint
	var events string
	var created int64
	if err := row.Scan(&e.ID, &e.MerchantID, &e.URL, &e.Description, &events, &e.Secret, &e.Enabled, &e.DisabledReason, &e.Failures, &created); err != nil {
		return nil, err
	}
	e.Events = strings.Split(events, ",")
	e.CreatedAt = time.UnixMilli(created).UTC()
	var err error
	if e.Secret, err = s.open(e.MerchantID, e.Secret); err != nil {
		return nil, err
	}
	e.SecretHint = hint(e.Secret)
	return &e, nil
}

// hint shows the last 4 characters of a secret so staff can tell them apart.
func hint(secret string) string {
	if len(secret) < 8 {
		return ""
	}
	return "whsec_…" + secret[len(secret)-4:]
}

// CreateEndpoint stores a validated endpoint with its secret.
func (s *WebhookStore) CreateEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE merchant_id = ?`, e.MerchantID).Scan(&n); err != nil {
			return err
		}
		if n >= webhooks.MaxEndpoints {
			return webhooks.ErrTooMany
		}
		e.CreatedAt = tx.Now.UTC()
		e.Enabled = true
		id, err := tx.InsertID(ctx, `INSERT INTO webhook_endpoints (merchant_id, url, description, events, secret, enabled, created_at) VALUES (?, ?, ?, ?, ?, TRUE, ?)`,
			e.MerchantID, e.URL, e.Description, strings.Join(e.Events, ","), s.seal(e.MerchantID, e.Secret), ms(tx.Now))
		e.ID = id
		e.SecretHint = hint(e.Secret)
		return err
	})
}

// UpdateEndpoint saves url, description, events, enabled and secret.
// Enabling again clears the failure streak and the reason.
func (s *WebhookStore) UpdateEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		reason := e.DisabledReason
		failures := e.Failures
		if e.Enabled {
			reason, failures = "", 0
		}
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, secret = ?, enabled = ?, disabled_reason = ?, failures = ?
			WHERE merchant_id = ? AND id = ?`, e.URL, e.Description, strings.Join(e.Events, ","), s.seal(e.MerchantID, e.Secret), e.Enabled, reason, failures, e.MerchantID, e.ID))
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound
		}
		e.DisabledReason, e.Failures, e.SecretHint = reason, failures, hint(e.Secret)
		return nil
	})
}

// DeleteEndpoint removes an endpoint and its delivery log.
func (s *WebhookStore) DeleteEndpoint(ctx context.Context, merchantID, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE merchant_id = ? AND endpoint_id = ?`, merchantID, id); err != nil {
			return err
		}
		n, err := rowsAffected(tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE merchant_id = ? AND id = ?`, merchantID, id))
		if err == nil && n == 0 {
			return apperr.ErrNotFound
		}
		return err
	})
}

// Endpoint returns one endpoint of the merchant (with its secret).
func (s *WebhookStore) Endpoint(ctx context.Context, merchantID, id int64) (*webhooks.Endpoint, error) {
	e, err := s.scanEndpoint(s.DB.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE merchant_id = ? AND id = ?`, merchantID, id))
	if err == sql.ErrNoRows {
		return nil, apperr.ErrNotFound
	}
	return e, err
}

// Endpoints lists the merchant's endpoints, oldest first.
func (s *WebhookStore) Endpoints(ctx context.Context, merchantID int64) ([]webhooks.Endpoint, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE merchant_id = ? ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []webhooks.Endpoint{}
	for rows.Next() {
		e, err := s.scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// Enqueue writes one delivery per enabled endpoint that wants typ, once per
// (endpoint, key): the same event emitted again is not queued again. The
// endpoints are read on the reader pool first, so a merchant without
// webhooks costs every order change one indexed read and no write.
func (s *WebhookStore) Enqueue(ctx context.Context, merchantID int64, typ, key string, payload []byte, onlyEndpoint int64) (int, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, events FROM webhook_endpoints WHERE merchant_id = ? AND enabled = TRUE AND (? = 0 OR id = ?)`, merchantID, onlyEndpoint, onlyEndpoint)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var events string
		if err := rows.Scan(&id, &events); err != nil {
			rows.Close()
			return 0, err
		}
		if (&webhooks.Endpoint{Events: strings.Split(events, ",")}).Wants(typ) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, err
	}
	var queued int
	err = s.DB.WriteTx(ctx, func(tx *Tx) error {
		queued = 0
		now := ms(tx.Now)
		for _, id := range ids {
			n, err := rowsAffected(tx.Exec(ctx, `INSERT INTO webhook_deliveries (merchant_id, endpoint_id, message_id, dedupe_key, type, payload, status, next_at, first_at, created_at)
				SELECT ?, id, ?, ?, ?, ?, 'pending', ?, ?, ? FROM webhook_endpoints WHERE id = ? AND enabled = TRUE
				ON CONFLICT (endpoint_id, dedupe_key) DO NOTHING`,
				merchantID, webhooks.NewMessageID(), key, typ, string(payload), now, now, now, id))
			if err != nil {
				return err
			}
			queued += int(n)
		}
		return nil
	})
	return queued, err
}

const deliveryCols = `d.id, d.endpoint_id, d.merchant_id, d.message_id, d.type, d.payload, d.status, d.attempts, d.next_at, d.first_at, d.last_status, d.last_error, d.created_at`

func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (*webhooks.Delivery, error) {
	var d webhooks.Delivery
	var next, first, created int64
	dest := append([]any{&d.ID, &d.EndpointID, &d.MerchantID, &d.MessageID, &d.Type, &d.Payload, &d.Status, &d.Attempts, &next, &first, &d.LastStatus, &d.LastError, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.NextAt, d.FirstAt, d.CreatedAt = time.UnixMilli(next).UTC(), time.UnixMilli(first).UTC(), time.UnixMilli(created).UTC()
	return &d, nil
}

// Deliveries lists an endpoint's newest deliveries first.
func (s *WebhookStore) Deliveries(ctx context.Context, merchantID, endpointID int64, limit int) ([]webhooks.Delivery, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE d.merchant_id = ? AND d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?`, merchantID, endpointID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []webhooks.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// Replay queues a delivered or failed delivery again now, with the same
// message id and a fresh 24 h window.
func (s *WebhookStore) Replay(ctx context.Context, merchantID, id int64) (*webhooks.Delivery, error) {
	var out *webhooks.Delivery
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE d.merchant_id = ? AND d.id = ?`, merchantID, id))
		if err == sql.ErrNoRows {
			return apperr.ErrNotFound
		}
		if err != nil {
			return err
		}
		if d.Status == webhooks.Pending {
			return webhooks.ErrNotReplay
		}
		now := ms(tx.Now)
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = ?, first_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		d.Status, d.Attempts, d.NextAt, d.FirstAt = webhooks.Pending, 0, tx.Now.UTC(), tx.Now.UTC()
		out = d
		return nil
	})
	return out, err
}

// Due claims up to limit due deliveries of enabled endpoints: their next_at
// moves claimFor ahead in the same transaction, so a concurrent pass (or
// another node during a failover) does not take them too.
func (s *WebhookStore) Due(ctx context.Context, limit int) ([]webhooks.DueDelivery, error) {
	var out []webhooks.DueDelivery
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		out = out[:0]
		lock := ""
		if s.DB.Dialect == Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		now := ms(tx.Now)
		rows, err := tx.Query(ctx, `SELECT `+deliveryCols+`, e.url, e.secret FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_at <= ? AND e.enabled = TRUE ORDER BY d.next_at LIMIT ?`+lock, now, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var dd webhooks.DueDelivery
			d, err := scanDelivery(rows, &dd.URL, &dd.Secret)
			if err != nil {
				rows.Close()
				return err
			}
			if dd.Secret, err = s.open(d.MerchantID, dd.Secret); err != nil {
				rows.Close()
				return err
			}
			dd.Delivery = *d
			out = append(out, dd)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range out {
			if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET next_at = ? WHERE id = ?`, now+claimFor.Milliseconds(), d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Finish records an attempt. A delivery that failed for good lengthens its
// endpoint's failure streak; at webhooks.DisableAfter the endpoint is
// switched off and its other pending deliveries fail with it. A success
// ends the streak.
func (s *WebhookStore) Finish(ctx context.Context, d *webhooks.Delivery, failedForGood bool) (bool, error) {
	disabled := false
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ? WHERE id = ?`,
			d.Status, d.Attempts, ms(d.NextAt), d.LastStatus, d.LastError, d.ID); err != nil {
			return err
		}
		switch {
		case d.Status == webhooks.Delivered:
			_, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET failures = 0 WHERE id = ? AND failures > 0`, d.EndpointID)
			return err
		case failedForGood:
			var failures int
			if err := tx.QueryRow(ctx, `UPDATE webhook_endpoints SET failures = failures + 1 WHERE id = ? RETURNING failures`, d.EndpointID).Scan(&failures); err != nil {
				return err
			}
			if failures < webhooks.DisableAfter {
				return nil
			}
			n, err := rowsAffected(tx.Exec(ctx, `UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = ? WHERE id = ? AND enabled = TRUE`,
				"failed_deliveries", d.EndpointID))
			if err != nil {
				return err
			}
			disabled = n > 0
			_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled' WHERE endpoint_id = ? AND status = 'pending'`, d.EndpointID)
			return err
		}
		return nil
	})
	return disabled, err
}
