package sqldb

import (
	"context"
	"database/sql"

	"github.com/shelflive/shelflive/internal/identity"
)

const inviteCols = `id, merchant_id, kind, COALESCE(staff_id, 0), name, role, COALESCE(store_id, 0), created_by, created_at, expires_at, used_at, token_hash`

func scanInvite(row interface{ Scan(...any) error }) (*identity.Invite, error) {
	var in identity.Invite
	var kind, role string
	var created, expires int64
	var used sql.NullInt64
	if err := row.Scan(&in.ID, &in.MerchantID, &kind, &in.StaffID, &in.Name, &role, &in.StoreID, &in.CreatedBy, &created, &expires, &used, &in.TokenHash); err != nil {
		return nil, translate(err)
	}
	in.Kind, in.Role, in.CreatedAt, in.ExpiresAt, in.UsedAt = identity.InviteKind(kind), identity.Role(role), fromMS(created), fromMS(expires), nullMS(used)
	return &in, nil
}

func (s *IdentityStore) CreateInvite(ctx context.Context, in *identity.Invite) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		in.ID, err = tx.InsertID(ctx, `INSERT INTO staff_invites (merchant_id, token_hash, kind, staff_id, name, role, store_id, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.MerchantID, in.TokenHash, string(in.Kind), nullID(in.StaffID), in.Name, string(in.Role), nullID(in.StoreID), in.CreatedBy, ms(in.CreatedAt), ms(in.ExpiresAt))
		return err
	})
}

func (s *IdentityStore) InviteByTokenHash(ctx context.Context, hash string) (*identity.Invite, error) {
	return scanInvite(s.DB.QueryRow(ctx, `SELECT `+inviteCols+` FROM staff_invites WHERE token_hash = ?`, hash))
}

// AcceptInvite spends the link and applies it in one transaction; the
// guarded UPDATE (used_at IS NULL, not expired) makes a link work once
// even when two people submit it at the same moment.
func (s *IdentityStore) AcceptInvite(ctx context.Context, hash string, st *identity.Staff) (*identity.Invite, error) {
	var in *identity.Invite
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE staff_invites SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, ms(tx.Now), hash, ms(tx.Now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return identity.ErrInviteInvalid // used, expired or unknown
		}
		if in, err = scanInvite(tx.QueryRow(ctx, `SELECT `+inviteCols+` FROM staff_invites WHERE token_hash = ?`, hash)); err != nil {
			return err
		}
		if in.Kind == identity.InviteReset {
			res, err := tx.Exec(ctx, `UPDATE staff SET password_hash = ? WHERE merchant_id = ? AND id = ?`, st.PasswordHash, in.MerchantID, in.StaffID)
			if err := mustAffect(res, err); err != nil {
				return absentAs(err, identity.ErrInviteInvalid)
			}
			return revokeStaffSessionsTx(ctx, tx, in.MerchantID, in.StaffID, 0)
		}
		st.MerchantID, st.Name, st.Role, st.StoreID = in.MerchantID, in.Name, in.Role, in.StoreID
		if err := createStaffTx(ctx, tx, st); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE staff_invites SET staff_id = ? WHERE id = ?`, st.ID, in.ID)
		return err
	})
	return in, err
}

func (s *IdentityStore) SetPassword(ctx context.Context, merchantID, staffID int64, hash string, keep int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE staff SET password_hash = ? WHERE merchant_id = ? AND id = ?`, hash, merchantID, staffID)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		return revokeStaffSessionsTx(ctx, tx, merchantID, staffID, keep)
	})
}

func revokeStaffSessionsTx(ctx context.Context, tx *Tx, merchantID, staffID, keep int64) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE merchant_id = ? AND kind = 'staff' AND subject_id = ? AND id <> ? AND revoked_at IS NULL`,
		ms(tx.Now), merchantID, staffID, keep)
	return err
}
