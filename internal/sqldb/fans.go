package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/fans"
)

// FanStore keeps topic groups, their members, posts and comments.
type FanStore struct{ DB *DB }

var _ fans.Store = (*FanStore)(nil)

const groupCols = `g.id, g.merchant_id, g.slug, g.name, g.name_en, g.topic, g.description, g.created_at,
	(SELECT COUNT(*) FROM fan_members m WHERE m.group_id = g.id), (SELECT COUNT(*) FROM fan_posts p WHERE p.group_id = g.id AND p.hidden = FALSE) FROM fan_groups g`

func scanGroup(row interface{ Scan(...any) error }) (*fans.Group, error) {
	var g fans.Group
	var created int64
	if err := row.Scan(&g.ID, &g.MerchantID, &g.Slug, &g.Name, &g.NameEN, &g.Topic, &g.Description, &created, &g.Members, &g.Posts); err != nil {
		return nil, translate(err)
	}
	g.CreatedAt = fromMS(created)
	return &g, nil
}

// CreateGroup implements fans.Store.
func (s *FanStore) CreateGroup(ctx context.Context, g *fans.Group) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		g.CreatedAt = tx.Now.UTC().Truncate(time.Millisecond)
		id, err := tx.InsertID(ctx, `INSERT INTO fan_groups (merchant_id, slug, name, name_en, topic, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
			g.MerchantID, g.Slug, g.Name, g.NameEN, g.Topic, g.Description, ms(tx.Now))
		if err == sql.ErrNoRows {
			return fans.ErrGroupTaken
		}
		g.ID = id
		return err
	})
}

// GroupBySlug implements fans.Store.
func (s *FanStore) GroupBySlug(ctx context.Context, slug string) (*fans.Group, error) {
	return scanGroup(s.DB.QueryRow(ctx, `SELECT `+groupCols+` WHERE g.slug = ?`, slug))
}

// Groups implements fans.Store.
func (s *FanStore) Groups(ctx context.Context, merchantID int64) ([]fans.Group, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+groupCols+` WHERE g.merchant_id = ? ORDER BY g.id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []fans.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, rows.Err()
}

// groupOf checks the group is the merchant's.
func groupOf(ctx context.Context, q querier, merchantID, groupID int64) error {
	var n int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM fan_groups WHERE id = ? AND merchant_id = ?`, groupID, merchantID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

// Join implements fans.Store.
func (s *FanStore) Join(ctx context.Context, merchantID, groupID, customerID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := groupOf(ctx, tx, merchantID, groupID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO fan_members (group_id, customer_id, role, joined_at) VALUES (?, ?, 'member', ?) ON CONFLICT (group_id, customer_id) DO NOTHING`,
			groupID, customerID, ms(tx.Now))
		return err
	})
}

// Leave implements fans.Store.
func (s *FanStore) Leave(ctx context.Context, merchantID, groupID, customerID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := groupOf(ctx, tx, merchantID, groupID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM fan_members WHERE group_id = ? AND customer_id = ?`, groupID, customerID)
		return err
	})
}

// Role implements fans.Store.
func (s *FanStore) Role(ctx context.Context, groupID, customerID int64) (string, error) {
	var role string
	err := s.DB.QueryRow(ctx, `SELECT role FROM fan_members WHERE group_id = ? AND customer_id = ?`, groupID, customerID).Scan(&role)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return role, err
}

// SetRole implements fans.Store.
func (s *FanStore) SetRole(ctx context.Context, merchantID, groupID, customerID int64, role string) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := groupOf(ctx, tx, merchantID, groupID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE fan_members SET role = ? WHERE group_id = ? AND customer_id = ?`, role, groupID, customerID)
		return mustAffect(res, err)
	})
}

// CreatePost implements fans.Store: recipe SKUs must be the merchant's.
func (s *FanStore) CreatePost(ctx context.Context, p *fans.Post) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := groupOf(ctx, tx, p.MerchantID, p.GroupID); err != nil {
			return err
		}
		var recipe any
		if p.Recipe != nil {
			for i := range p.Recipe.Ingredients {
				in := &p.Recipe.Ingredients[i]
				if in.SKUID == 0 {
					continue
				}
				var n int64
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM skus WHERE id = ? AND merchant_id = ?`, in.SKUID, p.MerchantID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					return catalog.ErrUnknownSKU.At("recipe.ingredients.sku_id")
				}
				in.ProductID, in.ProductName, in.ProductNameEN, in.PriceFen, in.Available = 0, "", "", 0, false // filled when read
			}
			b, err := json.Marshal(p.Recipe)
			if err != nil {
				return err
			}
			recipe = string(b)
		}
		images, _ := json.Marshal(p.Images)
		p.CreatedAt = tx.Now.UTC().Truncate(time.Millisecond)
		id, err := tx.InsertID(ctx, `INSERT INTO fan_posts (group_id, author_kind, author_id, author_name, text, images, recipe, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			p.GroupID, p.AuthorKind, p.AuthorID, p.AuthorName, p.Text, string(images), recipe, ms(tx.Now))
		p.ID = id
		return err
	})
}

const postCols = `p.id, p.group_id, g.merchant_id, p.author_kind, p.author_id, p.author_name, p.text, p.images, p.recipe, p.hidden, p.created_at,
	(SELECT COUNT(*) FROM fan_comments c WHERE c.post_id = p.id AND c.hidden = FALSE) FROM fan_posts p JOIN fan_groups g ON g.id = p.group_id`

func scanPost(row interface{ Scan(...any) error }) (*fans.Post, error) {
	var p fans.Post
	var images string
	var recipe sql.NullString
	var created int64
	if err := row.Scan(&p.ID, &p.GroupID, &p.MerchantID, &p.AuthorKind, &p.AuthorID, &p.AuthorName, &p.Text, &images, &recipe, &p.Hidden, &created, &p.Comments); err != nil {
		return nil, translate(err)
	}
	p.CreatedAt = fromMS(created)
	if err := json.Unmarshal([]byte(images), &p.Images); err != nil {
		return nil, err
	}
	if recipe.Valid {
		p.Recipe = &fans.Recipe{}
		if err := json.Unmarshal([]byte(recipe.String), p.Recipe); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// fillIngredients adds each linked ingredient's product, price and whether it is on sale now.
func (s *FanStore) fillIngredients(ctx context.Context, p *fans.Post) error {
	if p.Recipe == nil {
		return nil
	}
	for i := range p.Recipe.Ingredients {
		in := &p.Recipe.Ingredients[i]
		if in.SKUID == 0 {
			continue
		}
		err := s.DB.QueryRow(ctx, `SELECT k.product_id, pr.name, pr.name_en, k.price_fen, k.active AND pr.active FROM skus k JOIN products pr ON pr.id = k.product_id WHERE k.id = ? AND k.merchant_id = ?`,
			in.SKUID, p.MerchantID).Scan(&in.ProductID, &in.ProductName, &in.ProductNameEN, &in.PriceFen, &in.Available)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
	}
	return nil
}

// Post implements fans.Store.
func (s *FanStore) Post(ctx context.Context, merchantID, id int64) (*fans.Post, error) {
	p, err := scanPost(s.DB.QueryRow(ctx, `SELECT `+postCols+` WHERE p.id = ? AND g.merchant_id = ?`, id, merchantID))
	if err != nil {
		return nil, err
	}
	return p, s.fillIngredients(ctx, p)
}

// Posts implements fans.Store.
func (s *FanStore) Posts(ctx context.Context, merchantID, groupID, before int64, limit int) ([]fans.Post, error) {
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	q, args := `SELECT `+postCols+` WHERE p.group_id = ? AND g.merchant_id = ? AND p.hidden = FALSE`, []any{groupID, merchantID}
	if before > 0 {
		q, args = q+` AND p.id < ?`, append(args, before)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY p.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	out := []fans.Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.fillIngredients(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// HidePost implements fans.Store.
func (s *FanStore) HidePost(ctx context.Context, merchantID, id int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE fan_posts SET hidden = TRUE WHERE id = ? AND group_id IN (SELECT id FROM fan_groups WHERE merchant_id = ?)`, id, merchantID)
		return mustAffect(res, err)
	})
}

// AddComment implements fans.Store.
func (s *FanStore) AddComment(ctx context.Context, merchantID int64, c *fans.Comment) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM fan_posts p JOIN fan_groups g ON g.id = p.group_id WHERE p.id = ? AND g.merchant_id = ? AND p.hidden = FALSE`, c.PostID, merchantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.ErrNotFound
		}
		c.CreatedAt = tx.Now.UTC().Truncate(time.Millisecond)
		id, err := tx.InsertID(ctx, `INSERT INTO fan_comments (post_id, author_kind, author_id, author_name, text, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.PostID, c.AuthorKind, c.AuthorID, c.AuthorName, c.Text, ms(tx.Now))
		c.ID = id
		return err
	})
}

// Comments implements fans.Store.
func (s *FanStore) Comments(ctx context.Context, merchantID, postID int64) ([]fans.Comment, error) {
	rows, err := s.DB.Query(ctx, `SELECT c.id, c.post_id, c.author_kind, c.author_id, c.author_name, c.text, c.created_at FROM fan_comments c
		JOIN fan_posts p ON p.id = c.post_id JOIN fan_groups g ON g.id = p.group_id WHERE c.post_id = ? AND g.merchant_id = ? AND c.hidden = FALSE ORDER BY c.id LIMIT 200`, postID, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []fans.Comment{}
	for rows.Next() {
		var c fans.Comment
		var created int64
		if err := rows.Scan(&c.ID, &c.PostID, &c.AuthorKind, &c.AuthorID, &c.AuthorName, &c.Text, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// HideComment implements fans.Store; it returns the comment (its post names the group).
func (s *FanStore) HideComment(ctx context.Context, merchantID, id int64) (*fans.Comment, error) {
	var c fans.Comment
	err := s.DB.WriteTx(ctx, func(tx *Tx) error {
		var created int64
		if err := tx.QueryRow(ctx, `SELECT c.id, c.post_id, c.author_kind, c.author_id, c.author_name, c.text, c.created_at FROM fan_comments c
			JOIN fan_posts p ON p.id = c.post_id JOIN fan_groups g ON g.id = p.group_id WHERE c.id = ? AND g.merchant_id = ?`, id, merchantID).Scan(
			&c.ID, &c.PostID, &c.AuthorKind, &c.AuthorID, &c.AuthorName, &c.Text, &created); err != nil {
			return translate(err)
		}
		c.CreatedAt = fromMS(created)
		_, err := tx.Exec(ctx, `UPDATE fan_comments SET hidden = TRUE WHERE id = ?`, id)
		return err
	})
	return &c, err
}

// CommentGroup implements fans.Store.
func (s *FanStore) CommentGroup(ctx context.Context, merchantID, id int64) (int64, error) {
	var g int64
	err := s.DB.QueryRow(ctx, `SELECT p.group_id FROM fan_comments c JOIN fan_posts p ON p.id = c.post_id JOIN fan_groups g ON g.id = p.group_id WHERE c.id = ? AND g.merchant_id = ?`, id, merchantID).Scan(&g)
	return g, translate(err)
}

// PostShop implements fans.Store.
func (s *FanStore) PostShop(ctx context.Context, id int64) (int64, error) {
	var m int64
	err := s.DB.QueryRow(ctx, `SELECT g.merchant_id FROM fan_posts p JOIN fan_groups g ON g.id = p.group_id WHERE p.id = ? AND p.hidden = FALSE`, id).Scan(&m)
	return m, translate(err)
}

// SetRoomGroup implements fans.Store.
func (s *FanStore) SetRoomGroup(ctx context.Context, merchantID, roomID, groupID int64) error {
	return s.DB.WriteTx(ctx, func(tx *Tx) error {
		if err := groupOf(ctx, tx, merchantID, groupID); err != nil {
			return err
		}
		if err := ofMerchant(ctx, tx, "rooms", merchantID, roomID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO room_groups (room_id, group_id, pushed_at) VALUES (?, ?, ?)
			ON CONFLICT (room_id) DO UPDATE SET group_id = excluded.group_id, pushed_at = excluded.pushed_at`, roomID, groupID, ms(tx.Now))
		return err
	})
}

// RoomGroup implements fans.Store.
func (s *FanStore) RoomGroup(ctx context.Context, merchantID, roomID int64) (*fans.Group, error) {
	g, err := scanGroup(s.DB.QueryRow(ctx, `SELECT `+groupCols+` JOIN room_groups rg ON rg.group_id = g.id WHERE rg.room_id = ? AND g.merchant_id = ?`, roomID, merchantID))
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	return g, err
}
