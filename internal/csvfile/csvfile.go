// Package csvfile reads the spreadsheets grocers keep — product lists,
// stock counts — as saved by Excel or WPS: a header row naming the columns
// (in English or Chinese), UTF-8 with or without a BOM, or GB18030/GBK as
// Excel on a Chinese Windows saves "CSV". Errors are problem-ready and name
// the row or column.
package csvfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Row is one data row: its line number in the file (the header is row 1)
// and its cells by column key.
type Row struct {
	Num   int
	cells map[string]string
}

// ErrEmpty is a file with no header or no data rows.
var ErrEmpty = apperr.InvalidField("file", "empty_csv", "文件为空", "The file is empty.")

// ErrInvalidCSV is a file the CSV reader cannot parse.
var ErrInvalidCSV = apperr.InvalidField("file", "invalid_csv", "CSV 格式错误", "Malformed CSV.")

// Get returns the trimmed cell of a column ("" when the column is absent).
func (r Row) Get(key string) string { return r.cells[key] }

// At names a cell in errors: "row 3: price".
func (r Row) At(key string) string { return At(r.Num, key) }

// At names the cell of a column in a row, for errors raised after reading
// (e.g. when the database refuses a row): "row 3: store".
func At(row int, col string) string { return fmt.Sprintf("row %d: %s", row, col) }

var (
	// ErrEncoding is a file that is neither UTF-8 nor GBK.
	ErrEncoding = apperr.InvalidField("file", "invalid_csv_encoding", "文件须为 UTF-8 或 GBK 编码的 CSV", "The file must be CSV in UTF-8 or GBK.")
	// ErrDuplicateColumn is a header that names a column twice.
	ErrDuplicateColumn = apperr.InvalidField("header", "duplicate_column", "列重复", "A column appears twice.")
	// ErrMissingColumn is a header without a required column.
	ErrMissingColumn = apperr.InvalidField("header", "missing_column", "缺少必填列", "A required column is missing.")
	// ErrTooManyRows is a file over the import's row limit.
	ErrTooManyRows = apperr.InvalidField("file", "too_many_rows", "行数过多", "Too many rows.")
)

// Read parses a file whose columns are known by any of their names
// (columns: key → accepted header names, compared case-insensitively);
// required keys must have a column. Blank lines are skipped; at most
// maxRows data rows are read.
func Read(data []byte, columns map[string][]string, required []string, maxRows int) ([]Row, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, ErrEncoding // UTF-16 ("Unicode text") or not text at all
	}
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(dec) || bytes.ContainsRune(dec, utf8.RuneError) {
			return nil, ErrEncoding
		}
		data = dec
	}
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	header, err := rd.Read()
	if err == io.EOF {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, syntax(err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for key, names := range columns {
			for _, n := range names {
				if h == strings.ToLower(n) {
					if _, dup := col[key]; dup {
						return nil, ErrDuplicateColumn.With("列重复："+h, "Column appears twice: "+h)
					}
					col[key] = i
				}
			}
		}
	}
	for _, key := range required {
		if _, ok := col[key]; !ok {
			return nil, ErrMissingColumn.With("缺少必填列 "+key+"（"+columns[key][len(columns[key])-1]+"）", "Missing required column "+key+".")
		}
	}
	var rows []Row
	for num := 2; ; num++ {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, syntax(err)
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		if len(rows) == maxRows {
			return nil, ErrTooManyRows.With(fmt.Sprintf("一次最多导入 %d 行", maxRows), fmt.Sprintf("At most %d rows per import.", maxRows))
		}
		if line, _ := rd.FieldPos(0); line > 0 {
			num = line // the spreadsheet's row: encoding/csv skips empty lines without counting them
		}
		r := Row{Num: num, cells: make(map[string]string, len(col))}
		for key, i := range col {
			if i < len(rec) {
				r.cells[key] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, ErrEmpty.With("文件里没有数据行", "The file has no data rows.")
	}
	return rows, nil
}

func syntax(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return ErrInvalidCSV.At(fmt.Sprintf("row %d", pe.StartLine)).With("CSV 格式错误（引号不成对？）", "Malformed CSV (unbalanced quotes?).")
	}
	return ErrInvalidCSV
}
