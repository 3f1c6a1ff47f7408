package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/catalog"
	"github.com/shelflive/shelflive/internal/compliance"
	"github.com/shelflive/shelflive/internal/inventory"
	"github.com/shelflive/shelflive/internal/stores"
)

func (s *Server) apiListProducts(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	list, err := s.App.Catalog.ListProducts(r.Context(), p.MerchantID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []catalog.Product{}
	}
	return writeJSON(w, 200, map[string]any{"products": list})
}

func (s *Server) apiProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	prod, err := s.App.Catalog.Product(r.Context(), PrincipalFrom(r.Context()).MerchantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, prod)
}

func (s *Server) apiCreateProduct(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var prod catalog.Product
	if err := decodeJSON(r, &prod); err != nil {
		return err
	}
	prod.ID, prod.MerchantID, prod.Active = 0, p.MerchantID, true
	for i := range prod.SKUs {
		prod.SKUs[i].ID, prod.SKUs[i].Active = 0, true
	}
	if err := s.App.Catalog.CreateProduct(r.Context(), &prod); err != nil {
		return err
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "product.create", fmt.Sprintf("product:%d", prod.ID), prod.Name)
	out, err := s.App.Catalog.Product(r.Context(), p.MerchantID, prod.ID)
	if err != nil {
		return err
	}
	return s.writeReviewedProduct(w, r, 201, out)
}

// apiImportProducts creates products from a CSV product list (text/csv
// body or a multipart "file"), all or none; ?dry_run=true only checks it
// and shows what would be created.
func (s *Server) apiImportProducts(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	data, err := readCSV(r)
	if err != nil {
		return err
	}
	products, err := catalog.ParseProductsCSV(data)
	if err != nil {
		return err
	}
	for _, prod := range products {
		prod.MerchantID = p.MerchantID
	}
	if dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run")); dry {
		reviewed, err := s.reviewProducts(r, products)
		if err != nil {
			return err
		}
		return writeJSON(w, 200, map[string]any{"dry_run": true, "created": 0, "products": reviewed})
	}
	if err := s.App.Catalog.CreateProducts(r.Context(), products); err != nil {
		return err
	}
	skus := 0
	for _, prod := range products {
		skus += len(prod.SKUs)
	}
	s.App.Audit.Audit(r.Context(), p.MerchantID, p.Name, "product.import", "catalog", fmt.Sprintf("%d products, %d SKUs", len(products), skus))
	reviewed, err := s.reviewProducts(r, products)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]any{"dry_run": false, "created": len(products), "products": reviewed})
}

// reviewedProduct is a product with the compliance review of its texts,
// as a save answers it.
type reviewedProduct struct {
	*catalog.Product
	Compliance *compliance.Review `json:"compliance,omitempty"`
}

// reviewProducts reviews imported products as a product save does: the
// findings warn, they do not refuse the import (a room showing a product
// with blocking findings cannot go live).
func (s *Server) reviewProducts(r *http.Request, products []*catalog.Product) ([]reviewedProduct, error) {
	out := make([]reviewedProduct, len(products))
	for i, prod := range products {
		rev, err := s.App.ReviewProduct(r.Context(), prod)
		if err != nil {
			return nil, err
		}
		out[i] = reviewedProduct{prod, rev}
	}
	return out, nil
}

// readCSV takes an uploaded spreadsheet: a text/csv body or a multipart
// "file" (the API's 1 MiB body limit applies to both).
func readCSV(r *http.Request) ([]byte, error) {
	bad := errInvalidUpload.With("请上传 CSV 文件（最大1MB）", "Upload a CSV file (max 1 MB).")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		f, _, err := r.FormFile("file")
		if err != nil {
			return nil, bad
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, bad
		}
		return data, nil
	case "text/csv", "text/plain", "application/vnd.ms-excel", "application/octet-stream":
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, bad
		}
		return data, nil
	}
	return nil, errUnsupportedMedia.With("请以 text/csv 或文件上传提交", "Send text/csv or a multipart file.")
}

// apiImportStock applies a stock count from CSV (see inventory.ParseStockCSV),
// all or none; ?dry_run=true only checks the file.
func (s *Server) apiImportStock(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	data, err := readCSV(r)
	if err != nil {
		return err
	}
	rows, err := inventory.ParseStockCSV(data, s.App.Now())
	if err != nil {
		return err
	}
	if dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run")); dry {
		return writeJSON(w, 200, map[string]any{"dry_run": true, "rows": len(rows), "lots_created": 0})
	}
	created, err := s.App.ImportStock(r.Context(), p, rows)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"dry_run": false, "rows": len(rows), "lots_created": created})
}

func (s *Server) apiUpdateProduct(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	old, err := s.App.Catalog.Product(r.Context(), p.MerchantID, id) // another tenant's is not found, before the body is read
	if err != nil {
		return err
	}
	var in struct {
		catalog.Product
		Override *app.Override `json:"override"` // an owner's, for blocking texts of a product a live room shows
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	prod := in.Product
	out, err := s.App.UpdateProduct(r.Context(), p, old, &prod, in.Override)
	if err != nil {
		return err
	}
	return s.writeReviewedProduct(w, r, 200, out)
}

// writeReviewedProduct answers a product save with the compliance review of
// its texts under "compliance": findings warn, they never refuse the save
// (a room showing a product with blocking findings cannot go live).
func (s *Server) writeReviewedProduct(w http.ResponseWriter, r *http.Request, status int, prod *catalog.Product) error {
	rev, err := s.App.ReviewProduct(r.Context(), prod)
	if err != nil {
		return err
	}
	return writeJSON(w, status, reviewedProduct{prod, rev})
}

func (s *Server) apiSetPrice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		PriceFen    *int64        `json:"price_fen"`
		ConfirmFree bool          `json:"confirm_free"`
		Override    *app.Override `json:"override"` // an owner's, when the list price makes the new price a blocked comparison
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.PriceFen == nil {
		return catalog.ErrPriceRequired
	}
	if *in.PriceFen == 0 && !in.ConfirmFree {
		return catalog.ErrFreeNeedsConfirm
	}
	prod, err := s.App.SetPrice(r.Context(), PrincipalFrom(r.Context()), id, *in.PriceFen, in.Override)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, prod)
}

// apiUpload stores a product image after checking it really is one. It
// goes to the object store (the data dir, or S3 shared by every node), so
// any node serves it under /uploads/.
func (s *Server) apiUpload(w http.ResponseWriter, r *http.Request) error {
	url, err := s.storeImage(w, r)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, map[string]string{"url": url})
}

// errInvalidImage refuses an upload that is not JPEG, PNG, WebP or GIF.
var errInvalidImage = apperr.InvalidField("file", "invalid_image", "只支持 JPEG、PNG、WebP、GIF 图片", "Only JPEG, PNG, WebP or GIF images.")

// storeImage keeps the request's image file (form field "file") in the
// object store and returns its /uploads/ path: product images and the
// photos a customer attaches to a complaint go the same way.
func (s *Server) storeImage(w http.ResponseWriter, r *http.Request) (string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return "", errInvalidUpload
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	ctype := http.DetectContentType(head[:n])
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}[ctype]
	if ext == "" {
		return "", errInvalidImage
	}
	b := make([]byte, 12)
	rand.Read(b)
	name := hex.EncodeToString(b) + ext
	body := &readErrs{r: io.MultiReader(bytes.NewReader(head[:n]), f)}
	if err := s.files().Put(r.Context(), uploadsPrefix+name, body, hdr.Size, ctype); err != nil {
		if body.err != nil { // the client's file, not the store, failed
			return "", errInvalidUpload
		}
		return "", fmt.Errorf("upload: %w", err)
	}
	return "/uploads/" + name, nil
}

// readErrs remembers a read error, to tell a broken upload from a store
// failure.
type readErrs struct {
	r   io.Reader
	err error
}

func (e *readErrs) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func (s *Server) apiListStores(w http.ResponseWriter, r *http.Request) error {
	list, err := s.App.Stores.ListStores(r.Context(), PrincipalFrom(r.Context()).MerchantID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []stores.Store{}
	}
	return writeJSON(w, 200, map[string]any{"stores": list})
}

func (s *Server) apiCreateStore(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var st stores.Store
	if err := decodeJSON(r, &st); err != nil {
		return err
	}
	st.ID, st.MerchantID = 0, p.MerchantID
	if err := s.App.Stores.CreateStore(r.Context(), &st); err != nil {
		return err
	}
	return writeJSON(w, 201, st)
}

func (s *Server) apiUpdateStore(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var st stores.Store
	if err := decodeJSON(r, &st); err != nil {
		return err
	}
	st.ID, st.MerchantID = id, p.MerchantID
	if err := s.App.Stores.UpdateStore(r.Context(), &st); err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

// errInvalidParameter refuses a query parameter that is not an id.
var errInvalidParameter = apperr.InvalidField("", "invalid_parameter", "参数无效", "Invalid parameter.")

func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, errInvalidParameter.At(name).With("参数无效："+name, "Invalid parameter "+name+".")
	}
	return id, nil
}

func (s *Server) apiListLots(w http.ResponseWriter, r *http.Request) error {
	sku, err := queryID(r, "sku_id")
	if err != nil {
		return err
	}
	list, err := s.App.Inventory.ListLots(r.Context(), PrincipalFrom(r.Context()).MerchantID, sku)
	if err != nil {
		return err
	}
	if list == nil {
		list = []inventory.Lot{}
	}
	return writeJSON(w, 200, map[string]any{"lots": list})
}

func (s *Server) apiCreateLot(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in struct {
		SKUID      int64     `json:"sku_id"`
		Code       string    `json:"code"`
		ProducedAt time.Time `json:"produced_at"`
		ExpiresAt  time.Time `json:"expires_at"`
		Origin     string    `json:"origin"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	l := &inventory.Lot{MerchantID: p.MerchantID, SKUID: in.SKUID, Code: in.Code, ProducedAt: in.ProducedAt.UTC(), ExpiresAt: in.ExpiresAt.UTC(), Origin: in.Origin}
	if err := s.App.Inventory.CreateLot(r.Context(), l); err != nil {
		return err
	}
	return writeJSON(w, 201, l)
}

func (s *Server) apiHoldLot(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Hold   bool   `json:"hold"`
		Reason string `json:"reason"`
		// StoreID scopes the hold to the lot's units in one store; without
		// it the whole lot is held (widened) or every hold on it lifted.
		StoreID int64 `json:"store_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.StoreID != 0 {
		lot, err := s.App.SetStoreHold(r.Context(), p, id, in.StoreID, in.Hold, in.Reason)
		if err != nil {
			return err
		}
		return writeJSON(w, 200, lot)
	}
	lot, err := s.App.SetHold(r.Context(), p, id, in.Hold, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, lot)
}

func (s *Server) apiStock(w http.ResponseWriter, r *http.Request) error {
	sku, err := queryID(r, "sku_id")
	if err != nil {
		return err
	}
	levels, err := s.App.Inventory.Levels(r.Context(), PrincipalFrom(r.Context()).MerchantID, sku)
	if err != nil {
		return err
	}
	if levels == nil {
		levels = []inventory.Level{}
	}
	return writeJSON(w, 200, map[string]any{"levels": levels})
}

func (s *Server) apiSetStock(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	var in struct {
		StoreID int64 `json:"store_id"`
		LotID   int64 `json:"lot_id"`
		OnHand  int64 `json:"on_hand"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.App.SetStock(r.Context(), p, in.StoreID, in.LotID, in.OnHand); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
