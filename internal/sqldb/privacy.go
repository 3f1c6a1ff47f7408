package sqldb

import (
	"context"
	"fmt"
)

// EraseCustomer honours a deletion request: the customer's phone and name
// are replaced, their sessions and one-time codes deleted, their comments
// anonymised and their orders' contact data cleared. Orders themselves stay
// (amounts and dates are accounting records), pointing at an anonymous
// customer row.
func (db *DB) EraseCustomer(ctx context.Context, merchantID, customerID int64) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		var phone string
		if err := tx.QueryRow(ctx, `SELECT phone FROM customers WHERE merchant_id = ? AND id = ?`, merchantID, customerID).Scan(&phone); err != nil {
			return translate(err)
		}
		anon := fmt.Sprintf("erased-%d", customerID)
		steps := []struct {
			q    string
			args []any
		}{
			{`UPDATE customers SET phone = ?, name = '' WHERE id = ?`, []any{anon, customerID}},
			{`DELETE FROM sessions WHERE kind = 'customer' AND merchant_id = ? AND subject_id = ?`, []any{merchantID, customerID}},
			{`DELETE FROM otps WHERE merchant_id = ? AND phone = ?`, []any{merchantID, phone}},
			{`DELETE FROM wechat_mini_logins WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`DELETE FROM wechat_mini_grants WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`UPDATE comments SET author_name = '已注销用户' WHERE merchant_id = ? AND author_kind = 'customer' AND author_id = ?`, []any{merchantID, customerID}},
			{`UPDATE orders SET contact_name = '', contact_phone = '', address = '', delivery_lat = NULL, delivery_lng = NULL WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			// trials: the application form's answers (allergies, household) and the delivery address go
			{`UPDATE trial_applications SET answers = '{}', contact_name = '', address = '', device = '' WHERE customer_id = ? AND trial_id IN (SELECT id FROM trials WHERE merchant_id = ?)`, []any{customerID, merchantID}},
			// reminders: browsers' push subscriptions, channel choices and unsent deliveries go
			{`DELETE FROM push_subscriptions WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`DELETE FROM wechat_bindings WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`DELETE FROM wechat_profiles WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`DELETE FROM notify_prefs WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`UPDATE notify_deliveries SET state = 'failed', last_error = 'erased' WHERE merchant_id = ? AND customer_id = ? AND state = 'pending'`, []any{merchantID, customerID}},
			// household devices: consent ends, readings and estimates go
			{`DELETE FROM household_readings WHERE device_id IN (SELECT id FROM household_devices WHERE merchant_id = ? AND customer_id = ?)`, []any{merchantID, customerID}},
			{`DELETE FROM household_estimates WHERE merchant_id = ? AND customer_id = ?`, []any{merchantID, customerID}},
			{`UPDATE household_devices SET revoked_at = COALESCE(revoked_at, ?), token_hash = 'erased-' || id, name = '' WHERE merchant_id = ? AND customer_id = ?`, []any{ms(tx.Now), merchantID, customerID}},
		}
		for _, s := range steps {
			if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// CustomerComments lists what a customer wrote, for a data export.
func (db *DB) CustomerComments(ctx context.Context, merchantID, customerID int64) ([]map[string]any, error) {
	rows, err := db.Query(ctx, `SELECT c.id, r.slug, c.body, c.created_at FROM comments c JOIN rooms r ON r.id = c.room_id
		WHERE c.merchant_id = ? AND c.author_kind = 'customer' AND c.author_id = ? ORDER BY c.id`, merchantID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		var id, at int64
		var room, body string
		if err := rows.Scan(&id, &room, &body, &at); err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"id": id, "room": room, "text": body, "created_at": fromMS(at)})
	}
	return out, rows.Err()
}
