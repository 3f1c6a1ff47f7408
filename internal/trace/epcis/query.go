package epcis

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/trace"
)

// QueryError is a bad query parameter (EPCIS QueryParameterException).
type QueryError struct {
	Param   string
	Message string
}

func (e *QueryError) Error() string { return "epcis query: " + e.Param + ": " + e.Message }

func qerr(param, format string, args ...any) error {
	return &QueryError{Param: param, Message: fmt.Sprintf(format, args...)}
}

var eventTypes = map[string]bool{
	"ObjectEvent": true, "AggregationEvent": true, "TransactionEvent": true,
	"TransformationEvent": true, "AssociationEvent": true,
}

// values splits a parameter's values: repeated parameters and the REST
// binding's pipe-delimited lists both work.
func values(v url.Values, key string) ([]string, error) {
	var out []string
	for _, raw := range v[key] {
		for _, s := range strings.Split(raw, "|") {
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, qerr(key, "empty value")
			}
			out = append(out, s)
		}
	}
	if len(out) > maxValuesPerParam {
		return nil, qerr(key, "at most %d values", maxValuesPerParam)
	}
	return out, nil
}

// maxValuesPerParam bounds OR-lists so one request cannot build a huge query.
const maxValuesPerParam = 100

var reSensorCmp = regexp.MustCompile(`^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue)(?:_([A-Za-z0-9]{1,3}))?$`)

// ParseQuery reads the EPCIS 2.0 REST query parameters into a filter. It
// rejects unknown parameters and malformed values with a *QueryError
// naming the parameter, so a typo never silently widens a query.
func ParseQuery(v url.Values) (trace.EventFilter, error) {
	q := &queryParser{v: v, f: trace.EventFilter{PerPage: trace.DefaultPerPage}}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" {
			return q.f, qerr("(empty)", "a parameter has no name")
		}
		if strings.HasPrefix(k, "EXISTS_") {
			switch k {
			case "EXISTS_sensorElement":
				q.f.ExistsSensorElement = true
			case "EXISTS_errorDeclaration":
				q.f.ExistsErrorDeclaration = true
			default:
				return q.f, qerr(k, "unknown query parameter")
			}
			continue
		}
		vals, err := values(v, k)
		if err != nil {
			return q.f, err
		}
		if len(vals) == 0 {
			return q.f, qerr(k, "missing value")
		}
		if err := q.param(k, vals); err != nil {
			return q.f, err
		}
	}
	return q.f, q.sensorValues()
}

// queryParser builds an EventFilter one parameter at a time; sensor value
// comparisons wait for the end, when EQ_uom and EQ_type are known.
type queryParser struct {
	v         url.Values
	f         trace.EventFilter
	sensorUOM string
	cmps      []sensorCmp
}

// sensorCmp is a GT_/GE_/LT_/LE_/EQ_ comparison of a sensor field, in the
// unit its key names (or none).
type sensorCmp struct {
	c    trace.Comparison
	unit string
	key  string
}

func (q *queryParser) sensor() *trace.SensorFilter {
	if q.f.Sensor == nil {
		q.f.Sensor = &trace.SensorFilter{}
	}
	return q.f.Sensor
}

// param applies one parameter k with its values.
func (q *queryParser) param(k string, vals []string) error {
	f := &q.f
	switch {
	case k == "eventType":
		for _, s := range vals {
			if !eventTypes[s] {
				return qerr(k, "unknown event type %q (ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent)", s)
			}
		}
		f.EventTypes = vals
	case k == "GE_eventTime", k == "LT_eventTime", k == "GE_recordTime", k == "LT_recordTime",
		k == "GE_errorDeclarationTime", k == "LT_errorDeclarationTime":
		return q.timeParam(k, vals)
	case k == "EQ_action":
		for _, s := range vals {
			if s != "ADD" && s != "OBSERVE" && s != "DELETE" {
				return qerr(k, "action must be ADD, OBSERVE or DELETE, not %q", s)
			}
		}
		f.Actions = vals
	case k == "EQ_bizStep":
		f.BizSteps = vocabValues("bizStep", vals)
	case k == "EQ_disposition":
		f.Dispositions = vocabValues("disposition", vals)
	case k == "EQ_readPoint":
		f.ReadPoints = mapStrings(vals, NormalizeLocation)
	case k == "EQ_bizLocation":
		f.BizLocations = mapStrings(vals, NormalizeLocation)
	case k == "EQ_eventID":
		f.EventIDs = vals
	case k == "EQ_transformationID":
		f.TransformationIDs = vals
	case k == "MATCH_epc", k == "MATCH_parentID", k == "MATCH_inputEPC", k == "MATCH_outputEPC", k == "MATCH_anyEPC",
		k == "MATCH_epcClass", k == "MATCH_anyEPCClass":
		return q.matchParam(k, vals)
	case strings.HasPrefix(k, "EQ_bizTransaction_"), strings.HasPrefix(k, "EQ_source_"), strings.HasPrefix(k, "EQ_destination_"):
		return q.typedIDParam(k, vals)
	case k == "EQ_errorReason":
		f.ErrorReasons = vocabValues("reason", vals)
	case k == "EQ_type", k == "EQ_deviceID", k == "EQ_uom", reSensorCmp.MatchString(k):
		return q.sensorParam(k, vals)
	case k == "perPage", k == "nextPageToken", k == "orderBy", k == "orderDirection":
		return q.pageParam(k, vals)
	default:
		return qerr(k, "unknown query parameter")
	}
	return nil
}

// timeParam reads GE_/LT_ eventTime, recordTime and errorDeclarationTime.
func (q *queryParser) timeParam(k string, vals []string) error {
	if len(vals) != 1 {
		return qerr(k, "give one date-time")
	}
	t, err := parseQueryTime(vals[0])
	if err != nil {
		return qerr(k, "%q is not a date-time like 2024-05-01T08:00:00Z or 2024-05-01T16:00:00+08:00", vals[0])
	}
	f := &q.f
	switch k {
	case "GE_eventTime":
		f.GEEventTime = &t
	case "LT_eventTime":
		f.LTEventTime = &t
	case "GE_recordTime":
		f.GERecordTime = &t
	case "LT_recordTime":
		f.LTRecordTime = &t
	case "GE_errorDeclarationTime":
		f.GEErrorDeclTime = &t
	case "LT_errorDeclarationTime":
		f.LTErrorDeclTime = &t
	}
	return nil
}

// matchParam reads the MATCH_ parameters (EPC and EPC class patterns).
func (q *queryParser) matchParam(k string, vals []string) error {
	ms := make([]trace.IDMatch, 0, len(vals))
	for _, s := range vals {
		m, err := ParseIDMatch(s)
		if err != nil {
			return qerr(k, "%v", err)
		}
		ms = append(ms, m)
	}
	f := &q.f
	switch k {
	case "MATCH_epc":
		f.MatchEPC = ms
	case "MATCH_parentID":
		f.MatchParentID = ms
	case "MATCH_inputEPC":
		f.MatchInputEPC = ms
	case "MATCH_outputEPC":
		f.MatchOutputEPC = ms
	case "MATCH_anyEPC":
		f.MatchAnyEPC = ms
	case "MATCH_epcClass":
		f.MatchEPCClass = ms
	case "MATCH_anyEPCClass":
		f.MatchAnyEPCClass = ms
	}
	return nil
}

// typedIDParam reads EQ_bizTransaction_<type>, EQ_source_<type> and
// EQ_destination_<type>.
func (q *queryParser) typedIDParam(k string, vals []string) error {
	prefix, field := "EQ_bizTransaction_", "bizTransactionType"
	if strings.HasPrefix(k, "EQ_source_") {
		prefix, field = "EQ_source_", "sourceDestType"
	} else if strings.HasPrefix(k, "EQ_destination_") {
		prefix, field = "EQ_destination_", "sourceDestType"
	}
	typ := strings.TrimPrefix(k, prefix)
	if typ == "" {
		return qerr(k, "name the type after the underscore, e.g. %spo", prefix)
	}
	tf := trace.TypedIDFilter{Type: VocabIRI(field, typ), IDs: mapStrings(vals, NormalizeEPC)}
	switch prefix {
	case "EQ_bizTransaction_":
		q.f.BizTransactions = append(q.f.BizTransactions, tf)
	case "EQ_source_":
		q.f.Sources = append(q.f.Sources, tf)
	default:
		q.f.Destinations = append(q.f.Destinations, tf)
	}
	return nil
}

// sensorParam reads EQ_type, EQ_deviceID, EQ_uom and the sensor value
// comparisons (kept for sensorValues).
func (q *queryParser) sensorParam(k string, vals []string) error {
	switch k {
	case "EQ_type":
		q.sensor().Types = vocabValues("sensorType", vals)
		return nil
	case "EQ_deviceID":
		q.sensor().DeviceIDs = vals
		return nil
	case "EQ_uom":
		if len(vals) != 1 {
			return qerr(k, "give one unit")
		}
		q.sensorUOM = vals[0]
		return nil
	}
	if len(vals) != 1 {
		return qerr(k, "give one number")
	}
	n, err := strconv.ParseFloat(vals[0], 64)
	if err != nil {
		return qerr(k, "%q is not a number", vals[0])
	}
	m := reSensorCmp.FindStringSubmatch(k)
	q.cmps = append(q.cmps, sensorCmp{trace.Comparison{Field: m[2], Op: m[1], Value: n}, m[3], k})
	return nil
}

// pageParam reads perPage, nextPageToken, orderBy and orderDirection.
func (q *queryParser) pageParam(k string, vals []string) error {
	switch k {
	case "perPage":
		n, err := strconv.Atoi(vals[0])
		if err != nil || len(vals) != 1 || n < 1 || n > trace.MaxPerPage {
			return qerr(k, "perPage must be a whole number from 1 to %d", trace.MaxPerPage)
		}
		q.f.PerPage = n
	case "nextPageToken":
		c, err := DecodePageToken(vals[0], q.v)
		if err != nil {
			return qerr(k, "%v", err)
		}
		q.f.After = &c
	case "orderBy":
		if vals[0] != "eventTime" {
			return qerr(k, "only orderBy=eventTime is supported")
		}
	case "orderDirection":
		if vals[0] != "ASC" {
			return qerr(k, "only orderDirection=ASC is supported")
		}
	}
	return nil
}

// sensorValues turns the sensor comparisons into canonical units (the
// key's unit, else EQ_uom, else the sensor type's default) once every
// parameter is read.
func (q *queryParser) sensorValues() error {
	if len(q.cmps) == 0 {
		if q.sensorUOM != "" {
			q.sensor().UOM = CanonicalUnit(q.sensorUOM)
		}
		return nil
	}
	s := q.sensor()
	for _, c := range q.cmps {
		unit := c.unit
		if unit == "" {
			unit = q.sensorUOM
		}
		if unit == "" {
			unit = defaultUnit(s.Types)
		}
		if unit == "" {
			return qerr(c.key, "say which unit the number is in: %s_<unit> (e.g. %s_CEL) or EQ_uom=<unit>", c.key, c.key)
		}
		val, canon, _ := ToCanonical(c.c.Value, unit)
		if s.UOM != "" && s.UOM != canon {
			return qerr(c.key, "unit %s cannot be compared with %s", unit, s.UOM)
		}
		s.UOM = canon
		c.c.Value = val
		s.Value = append(s.Value, c.c)
	}
	return nil
}

// defaultUnit lets temperature queries omit the unit (°C is implied).
func defaultUnit(types []string) string {
	if len(types) == 0 {
		return ""
	}
	for _, t := range types {
		if t != "https://gs1.org/voc/Temperature" {
			return ""
		}
	}
	return "CEL"
}

func vocabValues(field string, vals []string) []string {
	out := make([]string, len(vals))
	for i, s := range vals {
		out[i] = VocabIRI(field, s)
	}
	return out
}

func mapStrings(vals []string, fn func(string) string) []string {
	out := make([]string, len(vals))
	for i, s := range vals {
		out[i] = fn(s)
	}
	return out
}

func parseQueryTime(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04") {
		return time.Time{}, fmt.Errorf("too short")
	}
	t, err := parseTimestamp(s)
	if err != nil {
		return t, err
	}
	return t.UTC(), nil
}

var (
	reClassGTIN = regexp.MustCompile(`^https://id.gs1.org/01/\d{14}$`)
	reClassITIP = regexp.MustCompile(`^https://id.gs1.org/8006/\d{18}$`)
	reClassAny  = regexp.MustCompile(`^https://id.gs1.org/(8003/\d{14}|253/\d{13}|255/\d{13}|8010/[^/]+)$`)
)

// ParseIDMatch reads a MATCH_* value: an EPC URI, EPC pattern URI
// (urn:epc:idpat:sgtin:0614141.107346.*), EPC class URI or GS1 Digital
// Link. Class-level values (a GTIN without serial, a pattern) match every
// instance below them.
func ParseIDMatch(s string) (trace.IDMatch, error) {
	if strings.HasPrefix(s, "urn:epc:idpat:") {
		dl, ok := NormalizeID(s)
		if !ok {
			return trace.IDMatch{}, fmt.Errorf("unsupported EPC pattern %q (use a pattern with a full item reference, e.g. urn:epc:idpat:sgtin:0614141.107346.*)", s)
		}
		return trace.IDMatch{ID: dl, Prefix: true}, nil
	}
	if strings.ContainsAny(s, "*") {
		return trace.IDMatch{}, fmt.Errorf("%q: wildcards only work in EPC pattern URIs (urn:epc:idpat:…)", s)
	}
	id := NormalizeEPC(s)
	if !strings.Contains(id, ":") {
		return trace.IDMatch{}, fmt.Errorf("%q is not a URI", s)
	}
	prefix := reClassGTIN.MatchString(id) || reClassITIP.MatchString(id) || reClassAny.MatchString(id)
	return trace.IDMatch{ID: id, Prefix: prefix}, nil
}

// pageTokenFingerprint binds a token to the query it continues, so that a
// token cannot be replayed with different filters.
func pageTokenFingerprint(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		if k == "nextPageToken" || k == "perPage" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		vals := append([]string(nil), v[k]...)
		sort.Strings(vals)
		fmt.Fprintf(h, "%s=%s\n", k, strings.Join(vals, "|"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// EncodePageToken makes the opaque nextPageToken for the page after c.
func EncodePageToken(c trace.Cursor, query url.Values) string {
	s := fmt.Sprintf("1.%d.%d.%s", c.EventTimeMS, c.Seq, pageTokenFingerprint(query))
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// DecodePageToken reads a nextPageToken made by EncodePageToken for the same query.
func DecodePageToken(tok string, query url.Values) (trace.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return trace.Cursor{}, fmt.Errorf("not a valid page token")
	}
	p := strings.Split(string(b), ".")
	if len(p) != 4 || p[0] != "1" {
		return trace.Cursor{}, fmt.Errorf("not a valid page token")
	}
	t, err1 := strconv.ParseInt(p[1], 10, 64)
	s, err2 := strconv.ParseInt(p[2], 10, 64)
	if err1 != nil || err2 != nil {
		return trace.Cursor{}, fmt.Errorf("not a valid page token")
	}
	if p[3] != pageTokenFingerprint(query) {
		return trace.Cursor{}, fmt.Errorf("the page token belongs to a different query; repeat the same parameters")
	}
	return trace.Cursor{EventTimeMS: t, Seq: s}, nil
}
