package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/identity"
)

// IdentityStore implements identity.Store.
type IdentityStore struct{ DB *DB }

var _ identity.Store = (*IdentityStore)(nil)

const merchantCols = `id, slug, name, name_en, created_at, disabled_at IS NOT NULL`

func scanMerchant(row interface{ Scan(...any) error }) (*identity.Merchant, error) {
	var m identity.Merchant
	var created int64
	if err := row.Scan(&m.ID, &m.Slug, &m.Name, &m.NameEN, &created, &m.Disabled); err != nil {
		return nil, translate(err)
	}
	m.CreatedAt = fromMS(created)
	return &m, nil
}

func (s *IdentityStore) MerchantBySlug(ctx context.Context, slug string) (*identity.Merchant, error) {
	return scanMerchant(s.DB.QueryRow(ctx, `SELECT `+merchantCols+` FROM merchants WHERE slug = ?`, slug))
}

func (s *IdentityStore) Merchant(ctx context.Context, id int64) (*identity.Merchant, error) {
	return scanMerchant(s.DB.QueryRow(ctx, `SELECT `+merchantCols+` FROM merchants WHERE id = ?`, id))
}

func (s *IdentityStore) CreateMerchant(ctx context.Context, m *identity.Merchant) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error { return createMerchantTx(ctx, tx, m) })
}

func createMerchantTx(ctx context.Context, tx *Tx, m *identity.Merchant) (err error) {
	m.CreatedAt = tx.Now
	m.ID, err = tx.InsertID(ctx, `INSERT INTO merchants (slug, name, name_en, created_at) VALUES (?, ?, ?, ?)`, m.Slug, m.Name, m.NameEN, ms(tx.Now))
	return err
}

// CreateMerchantOwner writes the merchant and its owner together: a taken
// login leaves no merchant without an owner behind.
func (s *IdentityStore) CreateMerchantOwner(ctx context.Context, m *identity.Merchant, owner *identity.Staff) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := createMerchantTx(ctx, tx, m); err != nil {
			return err
		}
		owner.MerchantID = m.ID
		return createStaffTx(ctx, tx, owner)
	})
}

func (s *IdentityStore) ListMerchants(ctx context.Context) ([]identity.Merchant, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+merchantCols+` FROM merchants ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []identity.Merchant{}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

func (s *IdentityStore) CountMerchants(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM merchants`).Scan(&n)
	return n, err
}

// DisableMerchant closes the merchant and revokes all its sessions and
// tokens in the same transaction.
func (s *IdentityStore) DisableMerchant(ctx context.Context, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE merchants SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?`, ms(tx.Now), id)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE merchant_id = ? AND revoked_at IS NULL`, ms(tx.Now), id)
		return err
	})
}

const staffCols = `id, merchant_id, username, phone, name, role, COALESCE(store_id, 0), guide_code, password_hash, disabled, created_at`

func scanStaff(row interface{ Scan(...any) error }) (*identity.Staff, error) {
	var st identity.Staff
	var created int64
	var role string
	err := row.Scan(&st.ID, &st.MerchantID, &st.Username, &st.Phone, &st.Name, &role, &st.StoreID, &st.GuideCode, &st.PasswordHash, &st.Disabled, &created)
	if err != nil {
		return nil, translate(err)
	}
	st.Role, st.CreatedAt = identity.Role(role), fromMS(created)
	return &st, nil
}

func (s *IdentityStore) StaffByLogin(ctx context.Context, login string) (*identity.Staff, error) {
	return scanStaff(s.DB.QueryRow(ctx, `SELECT `+staffCols+` FROM staff WHERE username = ? OR (phone <> '' AND phone = ?) ORDER BY id LIMIT 1`, login, login))
}

func (s *IdentityStore) Staff(ctx context.Context, merchantID, id int64) (*identity.Staff, error) {
	return scanStaff(s.DB.QueryRow(ctx, `SELECT `+staffCols+` FROM staff WHERE merchant_id = ? AND id = ?`, merchantID, id))
}

func (s *IdentityStore) StaffByGuideCode(ctx context.Context, merchantID int64, code string) (*identity.Staff, error) {
	return scanStaff(s.DB.QueryRow(ctx, `SELECT `+staffCols+` FROM staff WHERE merchant_id = ? AND guide_code = ? AND guide_code <> ''`, merchantID, code))
}

func (s *IdentityStore) ListStaff(ctx context.Context, merchantID int64) ([]identity.Staff, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+staffCols+` FROM staff WHERE merchant_id = ? ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.Staff
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, rows.Err()
}

func (s *IdentityStore) CreateStaff(ctx context.Context, st *identity.Staff) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error { return createStaffTx(ctx, tx, st) })
}

func createStaffTx(ctx context.Context, tx *Tx, st *identity.Staff) (err error) {
	st.CreatedAt = tx.Now
	st.ID, err = tx.InsertID(ctx, `INSERT INTO staff (merchant_id, username, phone, name, role, store_id, guide_code, password_hash, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, st.MerchantID, st.Username, st.Phone, st.Name, string(st.Role), nullID(st.StoreID), st.GuideCode, st.PasswordHash, st.Disabled, ms(tx.Now))
	return err
}

// UpdateStaff saves an account; a changed password or a disable revokes
// every session of it in the same transaction.
func (s *IdentityStore) UpdateStaff(ctx context.Context, st *identity.Staff) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var oldHash string
		if err := tx.QueryRow(ctx, `SELECT password_hash FROM staff WHERE merchant_id = ? AND id = ?`, st.MerchantID, st.ID).Scan(&oldHash); err != nil {
			return translate(err)
		}
		if oldHash != st.PasswordHash || st.Disabled {
			if err := revokeStaffSessionsTx(ctx, tx, st.MerchantID, st.ID, 0); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `UPDATE staff SET phone = ?, name = ?, role = ?, store_id = ?, guide_code = ?, password_hash = ?, disabled = ? WHERE merchant_id = ? AND id = ?`,
			st.Phone, st.Name, string(st.Role), nullID(st.StoreID), st.GuideCode, st.PasswordHash, st.Disabled, st.MerchantID, st.ID)
		return mustAffect(res, err)
	})
}

func (s *IdentityStore) UpsertCustomer(ctx context.Context, merchantID int64, phone string) (*identity.Customer, error) {
	c := &identity.Customer{MerchantID: merchantID, Phone: phone}
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var created int64
		err := tx.QueryRow(ctx, `SELECT id, name, created_at FROM customers WHERE merchant_id = ? AND phone = ?`, merchantID, phone).Scan(&c.ID, &c.Name, &created)
		if err == nil {
			c.CreatedAt = fromMS(created)
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		c.CreatedAt = tx.Now
		c.ID, err = tx.InsertID(ctx, `INSERT INTO customers (merchant_id, phone, name, created_at) VALUES (?, ?, '', ?) ON CONFLICT (merchant_id, phone) DO NOTHING`, merchantID, phone, ms(tx.Now))
		if err == sql.ErrNoRows { // a concurrent first login inserted it (PostgreSQL)
			err = tx.QueryRow(ctx, `SELECT id, name, created_at FROM customers WHERE merchant_id = ? AND phone = ?`, merchantID, phone).Scan(&c.ID, &c.Name, &created)
			c.CreatedAt = fromMS(created)
		}
		return err
	})
	return c, err
}

// WeChatMiniCustomer finds or creates the customer bound to a mini-program
// openid. A new one has 'wx:'+openid as its phone (customers.phone is
// required and unique per merchant) until they verify a real one.
func (s *IdentityStore) WeChatMiniCustomer(ctx context.Context, merchantID int64, appID, openID, unionID string) (*identity.Customer, error) {
	c := &identity.Customer{MerchantID: merchantID}
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var cid int64
		err := tx.QueryRow(ctx, `SELECT customer_id FROM wechat_mini_logins WHERE merchant_id = ? AND appid = ? AND openid = ?`, merchantID, appID, openID).Scan(&cid)
		if err == sql.ErrNoRows {
			phone := "wx:" + openID
			if _, err := tx.Exec(ctx, `INSERT INTO customers (merchant_id, phone, name, created_at) VALUES (?, ?, '', ?) ON CONFLICT (merchant_id, phone) DO NOTHING`, merchantID, phone, ms(tx.Now)); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT id FROM customers WHERE merchant_id = ? AND phone = ?`, merchantID, phone).Scan(&cid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO wechat_mini_logins (merchant_id, appid, openid, unionid, customer_id, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (merchant_id, appid, openid) DO NOTHING`,
				merchantID, appID, openID, unionID, cid, ms(tx.Now)); err != nil {
				return err
			}
			err = tx.QueryRow(ctx, `SELECT customer_id FROM wechat_mini_logins WHERE merchant_id = ? AND appid = ? AND openid = ?`, merchantID, appID, openID).Scan(&cid)
		}
		if err != nil {
			return err
		}
		var created int64
		err = tx.QueryRow(ctx, `SELECT id, phone, name, created_at FROM customers WHERE merchant_id = ? AND id = ?`, merchantID, cid).Scan(&c.ID, &c.Phone, &c.Name, &created)
		c.CreatedAt = fromMS(created)
		return err
	})
	return c, translate(err)
}

// WeChatMiniOpenID implements identity.Store.
func (s *IdentityStore) WeChatMiniOpenID(ctx context.Context, merchantID int64, appID string, customerID int64) (string, error) {
	var openid string
	err := s.DB.QueryRow(ctx, `SELECT openid FROM wechat_mini_logins WHERE merchant_id = ? AND appid = ? AND customer_id = ? ORDER BY created_at DESC, openid LIMIT 1`,
		merchantID, appID, customerID).Scan(&openid)
	return openid, translate(err)
}

func (s *IdentityStore) Customer(ctx context.Context, merchantID, id int64) (*identity.Customer, error) {
	c := &identity.Customer{}
	var created int64
	err := s.DB.QueryRow(ctx, `SELECT id, merchant_id, phone, name, created_at FROM customers WHERE merchant_id = ? AND id = ?`, merchantID, id).
		Scan(&c.ID, &c.MerchantID, &c.Phone, &c.Name, &created)
	c.CreatedAt = fromMS(created)
	return c, translate(err)
}

func (s *IdentityStore) CreateSession(ctx context.Context, sess *identity.Session) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) (err error) {
		sess.ID, err = tx.InsertID(ctx, `INSERT INTO sessions (token_hash, kind, merchant_id, subject_id, role, csrf, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.TokenHash, string(sess.Kind), sess.MerchantID, sess.SubjectID, string(sess.Role), sess.CSRF, sess.Label, ms(sess.CreatedAt), ms(sess.ExpiresAt))
		return err
	})
}

const sessionCols = `id, token_hash, kind, merchant_id, subject_id, role, csrf, label, created_at, expires_at, revoked_at`

func scanSession(row interface{ Scan(...any) error }) (*identity.Session, error) {
	var s identity.Session
	var kind, role string
	var created, expires int64
	var revoked sql.NullInt64
	if err := row.Scan(&s.ID, &s.TokenHash, &kind, &s.MerchantID, &s.SubjectID, &role, &s.CSRF, &s.Label, &created, &expires, &revoked); err != nil {
		return nil, translate(err)
	}
	s.Kind, s.Role, s.CreatedAt, s.ExpiresAt, s.RevokedAt = identity.SessionKind(kind), identity.Role(role), fromMS(created), fromMS(expires), nullMS(revoked)
	return &s, nil
}

func (s *IdentityStore) SessionByTokenHash(ctx context.Context, hash string) (*identity.Session, error) {
	return scanSession(s.DB.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, hash))
}

// SessionSubject joins the session with its customer or staff row; the
// joins are on the session's own merchant, so a subject id can never reach
// into another tenant.
func (s *IdentityStore) SessionSubject(ctx context.Context, hash string) (*identity.Session, *identity.Customer, *identity.Staff, error) {
	se, c, st, err := scanSessionSubject(s.DB.QueryRow(ctx, sessionSubjectSQL+` WHERE s.token_hash = ?`, hash))
	if err != nil {
		return nil, nil, nil, translate(err)
	}
	return se, c, st, nil
}

const sessionSubjectSQL = `SELECT s.id, s.token_hash, s.kind, s.merchant_id, s.subject_id, s.role, s.csrf, s.label, s.created_at, s.expires_at, s.revoked_at,
			m.disabled_at IS NOT NULL,
			c.id, c.phone, c.name, c.created_at,
			st.id, st.username, st.phone, st.name, st.role, st.store_id, st.guide_code, st.password_hash, st.disabled, st.created_at
		FROM sessions s
		JOIN merchants m ON m.id = s.merchant_id
		LEFT JOIN customers c ON s.kind = 'customer' AND c.merchant_id = s.merchant_id AND c.id = s.subject_id
		LEFT JOIN staff st ON s.kind = 'staff' AND st.merchant_id = s.merchant_id AND st.id = s.subject_id`

func scanSessionSubject(row interface{ Scan(...any) error }) (*identity.Session, *identity.Customer, *identity.Staff, error) {
	var se identity.Session
	var kind, role string
	var created, expires int64
	var revoked sql.NullInt64
	var cID, cCreated, stID, stStore, stCreated sql.NullInt64
	var cPhone, cName, stUser, stPhone, stName, stRole, stGuide, stHash sql.NullString
	var stDisabled sql.NullBool
	err := row.Scan(&se.ID, &se.TokenHash, &kind, &se.MerchantID, &se.SubjectID, &role, &se.CSRF, &se.Label, &created, &expires, &revoked,
		&se.MerchantDisabled,
		&cID, &cPhone, &cName, &cCreated,
		&stID, &stUser, &stPhone, &stName, &stRole, &stStore, &stGuide, &stHash, &stDisabled, &stCreated)
	if err != nil {
		return nil, nil, nil, err
	}
	se.Kind, se.Role, se.CreatedAt, se.ExpiresAt, se.RevokedAt = identity.SessionKind(kind), identity.Role(role), fromMS(created), fromMS(expires), nullMS(revoked)
	var c *identity.Customer
	if cID.Valid {
		c = &identity.Customer{ID: cID.Int64, MerchantID: se.MerchantID, Phone: cPhone.String, Name: cName.String, CreatedAt: fromMS(cCreated.Int64)}
	}
	var st *identity.Staff
	if stID.Valid {
		st = &identity.Staff{ID: stID.Int64, MerchantID: se.MerchantID, Username: stUser.String, Phone: stPhone.String, Name: stName.String, Role: identity.Role(stRole.String),
			StoreID: stStore.Int64, GuideCode: stGuide.String, PasswordHash: stHash.String, Disabled: stDisabled.Bool, CreatedAt: fromMS(stCreated.Int64)}
	}
	return &se, c, st, nil
}

// sessionChunk is how many sessions one SessionSubjects query reads: a
// fixed size (the last chunk is padded), so it is one prepared statement.
const sessionChunk = 200

// SessionSubjects is SessionSubject for many sessions at once (the session
// cache re-reads the sessions it keeps, a few hundred per query instead of
// one query per request). A hash with no session is left out.
func (s *IdentityStore) SessionSubjects(ctx context.Context, hashes []string) ([]identity.SessionRow, error) {
	var out []identity.SessionRow
	q := sessionSubjectSQL + ` WHERE s.token_hash IN (` + placeholders(sessionChunk) + `)`
	for len(hashes) > 0 {
		n := min(len(hashes), sessionChunk)
		args := make([]any, sessionChunk)
		for i := range args {
			args[i] = hashes[min(i, n-1)]
		}
		hashes = hashes[n:]
		rows, err := s.DB.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			se, c, st, err := scanSessionSubject(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, identity.SessionRow{Session: se, Customer: c, Staff: st})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *IdentityStore) RevokeSession(ctx context.Context, merchantID, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE merchant_id = ? AND id = ? AND revoked_at IS NULL`, ms(tx.Now), merchantID, id)
		return mustAffect(res, err)
	})
}

func (s *IdentityStore) ListTokens(ctx context.Context, merchantID int64) ([]identity.Session, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE merchant_id = ? AND kind = 'token' ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.Session
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		se.TokenHash = ""
		out = append(out, *se)
	}
	return out, rows.Err()
}

func (s *IdentityStore) CreateOTP(ctx context.Context, merchantID int64, phone, codeHash string, expires time.Time) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO otps (merchant_id, phone, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`, merchantID, phone, codeHash, ms(tx.Now), ms(expires))
		return err
	})
}

func (s *IdentityStore) UseOTP(ctx context.Context, merchantID int64, phone, codeHash string, maxAttempts int) error {
	var result error
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var id, expires int64
		var attempts int
		var hash string
		err := tx.QueryRow(ctx, `SELECT id, code_hash, attempts, expires_at FROM otps WHERE merchant_id = ? AND phone = ? AND used_at IS NULL ORDER BY id DESC LIMIT 1`+tx.db.forUpdate(), merchantID, phone).
			Scan(&id, &hash, &attempts, &expires)
		if err == sql.ErrNoRows {
			result = identity.ErrBadOTP
			return nil
		}
		if err != nil {
			return err
		}
		if attempts >= maxAttempts || ms(tx.Now) > expires {
			result = identity.ErrBadOTP
			return nil
		}
		if hash != codeHash {
			// the failed attempt is counted and committed; the caller still gets an error
			_, err := tx.Exec(ctx, `UPDATE otps SET attempts = attempts + 1 WHERE id = ?`, id)
			result = identity.ErrBadOTP
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE otps SET used_at = ? WHERE id = ?`, ms(tx.Now), id)
		return err
	})
	if err != nil {
		return err
	}
	return result
}

func (s *IdentityStore) CountRecentOTPs(ctx context.Context, merchantID int64, phone string, since time.Time) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM otps WHERE merchant_id = ? AND phone = ? AND created_at >= ?`, merchantID, phone, ms(since)).Scan(&n)
	return n, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// mustAffect turns "no row updated" into not found: the row is absent or
// belongs to another tenant, and both look the same to the caller.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}
