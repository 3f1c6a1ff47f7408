package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"time"
)

// LeaderLease is the lease of the node that runs cluster-wide jobs and
// allocates flash sales.
const LeaderLease = "leader"

// AcquireLease takes or renews the lease name for holder until ttl from
// now. It returns whether holder has it, and the current holder's address.
// One statement: insert, or take over an expired lease, or renew one's own.
func (db *DB) AcquireLease(ctx context.Context, name, holder, addr string, ttl time.Duration) (bool, string, error) {
	var gotHolder, gotAddr string
	err := db.WriteTx(ctx, func(tx *Tx) error {
		now := ms(tx.Now)
		if _, err := tx.Exec(ctx, `INSERT INTO leases (name, holder, addr, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, addr = excluded.addr, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at < ?`, name, holder, addr, now+ttl.Milliseconds(), now); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT holder, addr FROM leases WHERE name = ?`, name).Scan(&gotHolder, &gotAddr)
	})
	if err != nil {
		return false, "", err
	}
	return gotHolder == holder, gotAddr, nil
}

// ReleaseLease gives the lease up at shutdown so another node takes over at once.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?`, name, holder)
		return err
	})
}

// holdsLease is the fence inside a transaction: work that only the lease
// holder may do checks (and on PostgreSQL locks) the lease in the same
// transaction, so a node that lost its lease cannot commit.
func holdsLease(ctx context.Context, tx *Tx, name, holder string) (bool, error) {
	var got string
	var expires int64
	err := tx.QueryRow(ctx, `SELECT holder, expires_at FROM leases WHERE name = ?`+tx.db.forUpdate(), name).Scan(&got, &expires)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil && got == holder && expires >= ms(tx.Now), err
}

// ClusterSecret returns the deployment-wide secret called name, creating it
// on first use: the first node to ask stores a random one and every other
// node reads the same.
func (db *DB) ClusterSecret(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var value string
	err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cluster_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, hex.EncodeToString(fresh)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM cluster_secrets WHERE name = ?`, name).Scan(&value)
	})
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(value)
}
