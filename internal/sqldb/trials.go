package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/members"
	"github.com/shelflive/shelflive/internal/notify"
	"github.com/shelflive/shelflive/internal/order"
	"github.com/shelflive/shelflive/internal/trials"
)

// TrialStore implements trials.Store.
type TrialStore struct {
	DB *DB
	// Quiet holds the Web Push of a trial's notes until the morning (nil:
	// notify.DefaultQuiet); the install's SHELFLIVE_QUIET_HOURS.
	Quiet *notify.Quiet
}

var _ trials.Store = (*TrialStore)(nil)

func (s *TrialStore) quiet() notify.Quiet {
	if s.Quiet == nil {
		return notify.DefaultQuiet
	}
	return *s.Quiet
}

const trialCols = `t.id, t.merchant_id, t.title, t.description, t.sku_id, k.product_id, p.name, p.name_en, k.name, k.price_fen, p.image, t.quota, t.questions, t.segment,
	COALESCE(t.group_id, 0), COALESCE(t.room_id, 0), t.fulfilment, COALESCE(t.store_id, 0), t.selection, t.feedback_days, t.public_result,
	t.seed, t.commitment, t.status, t.opens_at, t.closes_at, t.selected_at, t.created_at,
	(SELECT COUNT(*) FROM trial_applications a WHERE a.trial_id = t.id), (SELECT COUNT(*) FROM trial_applications a WHERE a.trial_id = t.id AND a.position > 0)`

const trialFrom = ` FROM trials t JOIN skus k ON k.id = t.sku_id JOIN products p ON p.id = k.product_id`

func scanTrial(row interface{ Scan(...any) error }) (*trials.Trial, error) {
	var t trials.Trial
	var questions, segment, fulfilment, selection, seed, status string
	var opens, closes, created int64
	var selected sql.NullInt64
	if err := row.Scan(&t.ID, &t.MerchantID, &t.Title, &t.Description, &t.SKUID, &t.ProductID, &t.ProductName, &t.ProductNameEN, &t.SKUName, &t.PriceFen, &t.Image, &t.Quota, &questions, &segment,
		&t.GroupID, &t.RoomID, &fulfilment, &t.StoreID, &selection, &t.FeedbackDays, &t.PublicResult,
		&seed, &t.Commitment, &status, &opens, &closes, &selected, &created, &t.Applicants, &t.Chosen); err != nil {
		return nil, translate(err)
	}
	if err := json.Unmarshal([]byte(questions), &t.Questions); err != nil {
		return nil, fmt.Errorf("trial %d questions: %w", t.ID, err)
	}
	if segment != "" {
		t.Segment = &members.Segment{}
		if err := json.Unmarshal([]byte(segment), t.Segment); err != nil {
			return nil, fmt.Errorf("trial %d segment: %w", t.ID, err)
		}
	}
	t.Fulfilment, t.Selection, t.Status = order.Fulfilment(fulfilment), trials.Selection(selection), trials.Status(status)
	t.OpensAt, t.ClosesAt, t.CreatedAt, t.SelectedAt = fromMS(opens), fromMS(closes), fromMS(created), nullMS(selected)
	t.SetSecretSeed(seed)
	if t.Status == trials.Selected {
		t.Seed = seed // revealed
	}
	return &t, nil
}

// Create implements trials.Store.
func (s *TrialStore) Create(ctx context.Context, t *trials.Trial) error {
	questions, err := json.Marshal(t.Questions)
	if err != nil {
		return err
	}
	segment := ""
	if t.Segment != nil {
		b, err := json.Marshal(t.Segment)
		if err != nil {
			return err
		}
		segment = string(b)
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM skus WHERE merchant_id = ? AND id = ?`, t.MerchantID, t.SKUID).Scan(&one); err != nil {
			if isNoRows(err) {
				return catalog.ErrUnknownSKU
			}
			return err
		}
		if t.Fulfilment == order.Pickup {
			if err := storeOfMerchant(ctx, tx, t.MerchantID, t.StoreID); err != nil {
				return err
			}
		}
		if t.GroupID != 0 {
			if err := groupOf(ctx, tx, t.MerchantID, t.GroupID); err != nil {
				return err
			}
		}
		if t.RoomID != 0 {
			if err := tx.QueryRow(ctx, `SELECT 1 FROM rooms WHERE merchant_id = ? AND id = ?`, t.MerchantID, t.RoomID).Scan(&one); err != nil {
				return translate(err)
			}
		}
		t.Status, t.CreatedAt = trials.Open, tx.Now
		id, err := tx.InsertID(ctx, `INSERT INTO trials (merchant_id, title, description, sku_id, quota, questions, segment, group_id, room_id, fulfilment, store_id, selection,
			feedback_days, public_result, seed, commitment, status, opens_at, closes_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
			t.MerchantID, t.Title, t.Description, t.SKUID, t.Quota, string(questions), segment, nullID(t.GroupID), nullID(t.RoomID), string(t.Fulfilment), nullID(t.StoreID), string(t.Selection),
			t.FeedbackDays, t.PublicResult, t.SecretSeed(), t.Commitment, ms(t.OpensAt), ms(t.ClosesAt), ms(tx.Now))
		t.ID = id
		return err
	})
}

// Get implements trials.Store.
func (s *TrialStore) Get(ctx context.Context, merchantID, id int64) (*trials.Trial, error) {
	return scanTrial(s.DB.QueryRow(ctx, `SELECT `+trialCols+trialFrom+` WHERE t.merchant_id = ? AND t.id = ?`, merchantID, id))
}

// ByID implements trials.Store.
func (s *TrialStore) ByID(ctx context.Context, id int64) (*trials.Trial, error) {
	return scanTrial(s.DB.QueryRow(ctx, `SELECT `+trialCols+trialFrom+` WHERE t.id = ?`, id))
}

func (s *TrialStore) list(ctx context.Context, q string, args ...any) ([]trials.Trial, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+trialCols+trialFrom+` WHERE `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []trials.Trial{}
	for rows.Next() {
		t, err := scanTrial(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// List implements trials.Store.
func (s *TrialStore) List(ctx context.Context, merchantID int64, f trials.Filter) ([]trials.Trial, error) {
	q, args := `t.merchant_id = ?`, []any{merchantID}
	if f.GroupID != 0 {
		q, args = q+` AND t.group_id = ?`, append(args, f.GroupID)
	}
	if f.RoomID != 0 {
		q, args = q+` AND t.room_id = ?`, append(args, f.RoomID)
	}
	if f.Status != "" {
		q, args = q+` AND t.status = ?`, append(args, string(f.Status))
	}
	return s.list(ctx, q+` ORDER BY t.id DESC LIMIT 100`, args...)
}

// Due implements trials.Store.
func (s *TrialStore) Due(ctx context.Context, now time.Time) ([]trials.Trial, error) {
	return s.list(ctx, `t.status = 'open' AND t.closes_at <= ? ORDER BY t.closes_at LIMIT 100`, ms(now))
}

// Apply implements trials.Store: the window and status are checked on the
// locked trial row; the primary key makes it once per person.
func (s *TrialStore) Apply(ctx context.Context, merchantID int64, a *trials.Application) error {
	answers, err := json.Marshal(a.Answers)
	if err != nil {
		return err
	}
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var status string
		var opens, closes int64
		if err := tx.QueryRow(ctx, `SELECT status, opens_at, closes_at FROM trials WHERE merchant_id = ? AND id = ?`+tx.db.forShare(), merchantID, a.TrialID).Scan(&status, &opens, &closes); err != nil {
			return translate(err)
		}
		if now := ms(tx.Now); status != string(trials.Open) || now >= closes || now < opens {
			return trials.ErrClosed
		}
		n, err := rowsAffected(tx.Exec(ctx, `INSERT INTO trial_applications (trial_id, customer_id, answers, contact_name, address, device, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			a.TrialID, a.CustomerID, string(answers), a.ContactName, a.Address, a.Device, ms(tx.Now)))
		if err == nil && n == 0 {
			return trials.ErrApplied
		}
		a.AppliedAt = tx.Now
		return err
	})
}

const applicationCols = `a.trial_id, a.customer_id, c.phone, a.answers, a.contact_name, a.address, a.device, a.applied_at, a.excluded, a.tier, a.position, COALESCE(a.order_id, 0), c.created_at,
	EXISTS (SELECT 1 FROM fan_members m WHERE m.group_id = t.group_id AND m.customer_id = a.customer_id)`

const applicationFrom = ` FROM trial_applications a JOIN trials t ON t.id = a.trial_id JOIN customers c ON c.id = a.customer_id`

func scanApplication(row interface{ Scan(...any) error }) (*trials.Application, error) {
	var a trials.Application
	var phone, answers string
	var at, created int64
	if err := row.Scan(&a.TrialID, &a.CustomerID, &phone, &answers, &a.ContactName, &a.Address, &a.Device, &at, &a.Excluded, &a.Tier, &a.Position, &a.OrderID, &created, &a.InGroup); err != nil {
		return nil, translate(err)
	}
	if err := json.Unmarshal([]byte(answers), &a.Answers); err != nil {
		return nil, fmt.Errorf("trial application answers: %w", err)
	}
	a.Name, a.AppliedAt, a.AccountCreatedAt = identity.MaskPhone(phone), fromMS(at), fromMS(created)
	return &a, nil
}

// Application implements trials.Store.
func (s *TrialStore) Application(ctx context.Context, merchantID, trialID, customerID int64) (*trials.Application, error) {
	return scanApplication(s.DB.QueryRow(ctx, `SELECT `+applicationCols+applicationFrom+` WHERE t.merchant_id = ? AND a.trial_id = ? AND a.customer_id = ?`, merchantID, trialID, customerID))
}

// Applications implements trials.Store.
func (s *TrialStore) Applications(ctx context.Context, trialID int64) ([]trials.Application, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+applicationCols+applicationFrom+` WHERE a.trial_id = ? ORDER BY a.applied_at, a.customer_id`, trialID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []trials.Application{}
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// SaveSelection implements trials.Store. The status guard makes it once;
// every applicant's note is one INSERT … SELECT keyed trial:<id>:result, so
// it is written with the selection or not at all.
func (s *TrialStore) SaveSelection(ctx context.Context, trialID int64, c *trials.Choice) (bool, error) {
	var ok bool
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var merchantID int64
		var title string
		var quota int
		if err := tx.QueryRow(ctx, `SELECT merchant_id, title, quota FROM trials WHERE id = ?`+tx.db.forUpdate(), trialID).Scan(&merchantID, &title, &quota); err != nil {
			return translate(err)
		}
		if len(c.Chosen) > quota {
			return fmt.Errorf("trial %d: %d chosen over the quota %d", trialID, len(c.Chosen), quota)
		}
		n, err := rowsAffected(tx.Exec(ctx, `UPDATE trials SET status = 'selected', selected_at = ? WHERE id = ? AND status = 'open'`, ms(tx.Now), trialID))
		if err != nil || n == 0 {
			return err
		}
		ok = true
		for cust, why := range c.Excluded {
			if _, err := tx.Exec(ctx, `UPDATE trial_applications SET excluded = ? WHERE trial_id = ? AND customer_id = ?`, why, trialID, cust); err != nil {
				return err
			}
		}
		for cust, tier := range c.Tier {
			if _, err := tx.Exec(ctx, `UPDATE trial_applications SET tier = ? WHERE trial_id = ? AND customer_id = ?`, tier, trialID, cust); err != nil {
				return err
			}
		}
		for i, cust := range c.Chosen {
			if err := mustAffect(tx.Exec(ctx, `UPDATE trial_applications SET position = ? WHERE trial_id = ? AND customer_id = ? AND excluded = ''`, i+1, trialID, cust)); err != nil {
				return fmt.Errorf("trial %d: chosen %d is no eligible applicant: %w", trialID, cust, err)
			}
		}
		key := fmt.Sprintf("trial:%d:result", trialID)
		url := fmt.Sprintf("/trials/%d", trialID)
		if _, err := tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
			SELECT ?, a.customer_id, CASE WHEN a.position > 0 THEN 'trial.chosen' ELSE 'trial.not_chosen' END, 0,
				CASE WHEN a.position > 0 THEN ? ELSE ? END,
				CASE WHEN a.position > 0 THEN ? ELSE ? END,
				CASE WHEN a.position > 0 THEN ? ELSE ? END, ?, ?, ?
			FROM trial_applications a WHERE a.trial_id = ?
			ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
			merchantID, "内测入选："+title, "内测结果："+title,
			"恭喜！你入选了「"+title+"」的新品内测，免费样品已为你下单（0 元订单），领取后记得来写试用反馈。",
			"感谢你申请「"+title+"」的新品内测。这次名额有限，很遗憾没能选上——你的申请我们都认真看了，下次内测再见！",
			"Good news: you were chosen to try “"+title+"”. Your free sample is ordered (a zero-price order); tell us what you think once you have it.",
			"Thank you for applying to try “"+title+"”. Places were few and you were not chosen this time — we read every application, and hope to see you in the next trial.",
			url, key, ms(tx.Now), trialID); err != nil {
			return err
		}
		return enqueueChannels(ctx, tx, s.quiet(), merchantID, key, notify.ChannelPush)
	})
	return ok, err
}

// PendingSamples implements trials.Store.
func (s *TrialStore) PendingSamples(ctx context.Context) ([]trials.Pending, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+applicationCols+applicationFrom+` WHERE t.status = 'selected' AND a.position > 0 AND a.order_id IS NULL ORDER BY a.trial_id, a.position LIMIT 200`)
	if err != nil {
		return nil, err
	}
	var apps []trials.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		apps = append(apps, *a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []trials.Pending
	loaded := map[int64]*trials.Trial{}
	for _, a := range apps {
		t := loaded[a.TrialID]
		if t == nil {
			if t, err = s.ByID(ctx, a.TrialID); err != nil {
				return nil, err
			}
			loaded[a.TrialID] = t
		}
		out = append(out, trials.Pending{Trial: *t, Application: a})
	}
	return out, nil
}

// SetSampleOrder implements trials.Store.
func (s *TrialStore) SetSampleOrder(ctx context.Context, trialID, customerID, orderID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		return mustAffect(tx.Exec(ctx, `UPDATE trial_applications SET order_id = ? WHERE trial_id = ? AND customer_id = ? AND position > 0`, orderID, trialID, customerID))
	})
}

// SaveFeedback implements trials.Store.
func (s *TrialStore) SaveFeedback(ctx context.Context, merchantID int64, f *trials.Feedback) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var position int
		var status sql.NullString
		err := tx.QueryRow(ctx, `SELECT a.position, o.status FROM trial_applications a JOIN trials t ON t.id = a.trial_id LEFT JOIN orders o ON o.id = a.order_id
			WHERE t.merchant_id = ? AND a.trial_id = ? AND a.customer_id = ?`, merchantID, f.TrialID, f.CustomerID).Scan(&position, &status)
		if isNoRows(err) || (err == nil && position == 0) {
			return trials.ErrNotChosen
		}
		if err != nil {
			return err
		}
		if st := order.Status(status.String); st != order.Completed && st != order.Shipped {
			return trials.ErrNotReceived
		}
		n, err := rowsAffected(tx.Exec(ctx, `INSERT INTO trial_feedback (trial_id, customer_id, taste, texture, price, repurchase, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			f.TrialID, f.CustomerID, f.Ratings["taste"], f.Ratings["texture"], f.Ratings["price"], f.Ratings["repurchase"], f.Text, ms(tx.Now)))
		if err == nil && n == 0 {
			return trials.ErrFeedbackDone
		}
		f.CreatedAt = tx.Now
		return err
	})
}

// Feedback implements trials.Store, oldest first.
func (s *TrialStore) Feedback(ctx context.Context, trialID int64) ([]trials.Feedback, error) {
	rows, err := s.DB.Query(ctx, `SELECT f.trial_id, f.customer_id, c.phone, f.taste, f.texture, f.price, f.repurchase, f.text, f.created_at FROM trial_feedback f
		JOIN customers c ON c.id = f.customer_id WHERE f.trial_id = ? ORDER BY f.created_at, f.customer_id`, trialID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []trials.Feedback{}
	for rows.Next() {
		var f trials.Feedback
		var phone string
		var taste, texture, price, repurchase int
		var at int64
		if err := rows.Scan(&f.TrialID, &f.CustomerID, &phone, &taste, &texture, &price, &repurchase, &f.Text, &at); err != nil {
			return nil, err
		}
		f.Name, f.CreatedAt = identity.MaskPhone(phone), fromMS(at)
		f.Ratings = map[string]int{"taste": taste, "texture": texture, "price": price, "repurchase": repurchase}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Results implements trials.Store.
func (s *TrialStore) Results(ctx context.Context, merchantID, trialID int64) (*trials.Results, error) {
	t, err := s.Get(ctx, merchantID, trialID)
	if err != nil {
		return nil, err
	}
	r := &trials.Results{Trial: *t, Applicants: t.Applicants, Chosen: t.Chosen}
	if err := s.DB.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN a.excluded <> '' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN o.status IN ('completed', 'shipped') THEN 1 ELSE 0 END), 0)
		FROM trial_applications a LEFT JOIN orders o ON o.id = a.order_id WHERE a.trial_id = ?`, trialID).Scan(&r.Excluded, &r.Received); err != nil {
		return nil, err
	}
	fb, err := s.Feedback(ctx, trialID)
	if err != nil {
		return nil, err
	}
	r.Summarize(fb)
	r.Texts = []trials.Feedback{}
	for _, f := range fb {
		if f.Text != "" {
			r.Texts = append(r.Texts, f)
		}
	}
	apps, err := s.Applications(ctx, trialID)
	if err != nil {
		return nil, err
	}
	r.Answers = apps
	r.Choices = map[string]map[string]int{}
	for _, q := range t.Questions {
		if q.Kind != trials.QChoice {
			continue
		}
		counts := map[string]int{}
		for _, o := range q.Options {
			counts[o] = 0
		}
		for _, a := range apps {
			if v, ok := a.Answers[q.ID]; ok {
				counts[v]++
			}
		}
		r.Choices[q.ID] = counts
	}
	return r, nil
}

// feedbackReminders: the first after the trial's FeedbackDays since the
// sample was handed over, the second after twice as long.
var feedbackReminders = []struct {
	key    string
	factor int64
}{{"feedback.remind", 1}, {"feedback.remind2", 2}}

// RemindFeedback implements trials.Store: per trial and reminder, one
// INSERT … SELECT of the chosen testers whose sample was handed over long
// enough ago (within 30 days) and who left no feedback; the inbox's unique
// (customer, trial:<id>:<reminder>) makes each reminder once whoever runs
// it, and the Web Push rows are added in the same transaction.
func (s *TrialStore) RemindFeedback(ctx context.Context, now time.Time) (int64, error) {
	type due struct {
		id, merchant int64
		title        string
	}
	rows, err := s.DB.Query(ctx, `SELECT DISTINCT t.id, t.merchant_id, t.title FROM trials t JOIN trial_applications a ON a.trial_id = t.id JOIN orders o ON o.id = a.order_id
		WHERE t.status = 'selected' AND a.position > 0 AND o.status IN ('completed', 'shipped')
		AND COALESCE(o.shipped_at, o.completed_at) <= ? - t.feedback_days * 86400000 AND COALESCE(o.shipped_at, o.completed_at) > ?
		AND NOT EXISTS (SELECT 1 FROM trial_feedback f WHERE f.trial_id = a.trial_id AND f.customer_id = a.customer_id)`, ms(now), ms(now.Add(-30*24*time.Hour)))
	if err != nil {
		return 0, err
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.merchant, &d.title); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var total int64
	for _, d := range list {
		for _, rem := range feedbackReminders {
			key := fmt.Sprintf("trial:%d:%s", d.id, rem.key)
			err := s.DB.WriteTx(ctx, func(tx *Tx) error {
				n, err := rowsAffected(tx.Exec(ctx, `INSERT INTO inbox (merchant_id, customer_id, kind, room_id, title, body, body_en, url, dedupe_key, created_at)
					SELECT t.merchant_id, a.customer_id, 'trial.feedback', 0, ?, ?, ?, ?, ?, ? FROM trials t JOIN trial_applications a ON a.trial_id = t.id JOIN orders o ON o.id = a.order_id
					WHERE t.id = ? AND a.position > 0 AND o.status IN ('completed', 'shipped')
					AND COALESCE(o.shipped_at, o.completed_at) <= ? - t.feedback_days * ? AND COALESCE(o.shipped_at, o.completed_at) > ?
					AND NOT EXISTS (SELECT 1 FROM trial_feedback f WHERE f.trial_id = a.trial_id AND f.customer_id = a.customer_id)
					ON CONFLICT (customer_id, dedupe_key) DO NOTHING`,
					"试用反馈："+d.title, "样品用得怎么样？花 1 分钟给「"+d.title+"」打个分吧，你的意见会决定它最终的样子。",
					"How was your sample? Take a minute to rate “"+d.title+"” — your answers shape the final product.",
					fmt.Sprintf("/trials/%d#feedback", d.id), key, ms(tx.Now), d.id, ms(now), rem.factor*86400000, ms(now.Add(-30*24*time.Hour))))
				if err != nil || n == 0 {
					return err
				}
				total += n
				return enqueueChannels(ctx, tx, s.quiet(), d.merchant, key, notify.ChannelPush)
			})
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}
