package epcis

import (
	"regexp"
	"strconv"
	"strings"
)

// This file turns the many spellings of a GS1 identifier (EPC URI, EPC class
// URI, EPC pattern URI, GS1 Digital Link URI on any domain) into one
// constrained canonical GS1 Digital Link URI on https://id.gs1.org, as the
// CBV 2.0 event hash requires (CBV 2.0 §8.9: the finest identification level
// only, no query string, no custom domain). The same form is used for the
// query indexes, so that MATCH_epc=urn:epc:id:sgtin:… finds an event captured
// with a Digital Link and the other way round.

// CheckDigit returns the GS1 mod-10 check digit of a GS1 key given without it
// (GTIN, GLN, SSCC, GSIN, GSRN, GDTI, GCN, GRAI).
func CheckDigit(digits string) int {
	sum := 0
	w := 3
	for i := len(digits) - 1; i >= 0; i-- {
		sum += int(digits[i]-'0') * w
		w = 4 - w
	}
	return (10 - sum%10) % 10
}

func withCheck(digits string) string { return digits + strconv.Itoa(CheckDigit(digits)) }

// dlPercentEncode escapes the characters GS1 Digital Link (table 7-1) wants
// escaped and that EPC URIs allow unescaped. '%' is kept: EPC URIs already
// carry escapes such as %2F, which stay as they are.
var dlPercentEncoder = strings.NewReplacer("!", "%21", "(", "%28", ")", "%29", "*", "%2A", "+", "%2B", ",", "%2C", ":", "%3A")

func dlPercentEncode(s string) string { return dlPercentEncoder.Replace(s) }

const epcCharRE = `(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])`
const cpiCharRE = `(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])`

var (
	reEPCSerial20 = regexp.MustCompile(`^` + epcCharRE + `{1,20}$`)
	reEPCSerial16 = regexp.MustCompile(`^` + epcCharRE + `{1,16}$`)
	reEPCSerial28 = regexp.MustCompile(`^` + epcCharRE + `{1,28}$`)
	reEPCChars    = regexp.MustCompile(`^` + epcCharRE + `+$`)
	reCPIChars    = regexp.MustCompile(`^` + cpiCharRE + `+$`)
	reDigits      = regexp.MustCompile(`^[0-9]*$`)
)

func isDigits(s string) bool { return reDigits.MatchString(s) }

// companyRef splits "CP.REF" parts and checks the digit counts: a company
// prefix of 6–12 digits and a reference completing total digits.
func companyRef(cp, ref string, total int, refMayBeEmpty bool) bool {
	if len(cp) < 6 || len(cp) > 12 || !isDigits(cp) || !isDigits(ref) {
		return false
	}
	if len(ref) == 0 && !refMayBeEmpty {
		return false
	}
	return len(cp)+len(ref) == total
}

// gtinFrom builds a GTIN-14 from an EPC company prefix and indicator+item reference.
func gtinFrom(cp, ir string) string { return withCheck(ir[:1] + cp + ir[1:]) }

// epcToDL converts EPC URIs (urn:epc:id / class / idpat) to canonical GS1
// Digital Link URIs. It reports false for anything it does not recognise.
// It is long because it follows the EPC Tag Data Standard's table of
// schemes, one case a scheme, which reads best side by side with it.
func epcToDL(u string) (string, bool) {
	const base = "https://id.gs1.org/"
	switch {
	case strings.HasPrefix(u, "urn:epc:id:"):
		rest := u[len("urn:epc:id:"):]
		scheme, body, ok := strings.Cut(rest, ":")
		if !ok {
			return "", false
		}
		switch scheme {
		case "sgtin", "upui":
			p := strings.SplitN(body, ".", 3)
			if len(p) != 3 || !companyRef(p[0], p[1], 13, false) {
				return "", false
			}
			if scheme == "sgtin" {
				if !reEPCSerial20.MatchString(p[2]) {
					return "", false
				}
				return base + "01/" + gtinFrom(p[0], p[1]) + "/21/" + dlPercentEncode(p[2]), true
			}
			if !reEPCSerial28.MatchString(p[2]) {
				return "", false
			}
			return base + "01/" + gtinFrom(p[0], p[1]) + "/235/" + dlPercentEncode(p[2]), true
		case "sscc":
			p := strings.Split(body, ".")
			if len(p) != 2 || !companyRef(p[0], p[1], 17, false) {
				return "", false
			}
			return base + "00/" + withCheck(p[1][:1]+p[0]+p[1][1:]), true
		case "sgln":
			p := strings.SplitN(body, ".", 3)
			if len(p) != 3 || !companyRef(p[0], p[1], 12, true) || !reEPCSerial20.MatchString(p[2]) {
				return "", false
			}
			gln := withCheck(p[0] + p[1])
			if p[2] == "0" {
				return base + "414/" + gln, true
			}
			return base + "414/" + gln + "/254/" + dlPercentEncode(p[2]), true
		case "grai":
			p := strings.SplitN(body, ".", 3)
			if len(p) != 3 || !companyRef(p[0], p[1], 12, true) || !reEPCSerial16.MatchString(p[2]) {
				return "", false
			}
			return base + "8003/" + withCheck("0"+p[0]+p[1]) + dlPercentEncode(p[2]), true
		case "giai", "ginc":
			p := strings.SplitN(body, ".", 2)
			if len(p) != 2 || len(p[0]) < 6 || len(p[0]) > 12 || !isDigits(p[0]) || len(p[1]) == 0 ||
				len(p[0])+len(p[1]) > 30 || !reEPCChars.MatchString(p[1]) {
				return "", false
			}
			ai := "8004/"
			if scheme == "ginc" {
				ai = "401/"
			}
			return base + ai + p[0] + dlPercentEncode(p[1]), true
		case "gsrn", "gsrnp":
			p := strings.Split(body, ".")
			if len(p) != 2 || !companyRef(p[0], p[1], 17, false) {
				return "", false
			}
			ai := "8018/"
			if scheme == "gsrnp" {
				ai = "8017/"
			}
			return base + ai + withCheck(p[0]+p[1]), true
		case "gdti":
			p := strings.SplitN(body, ".", 3)
			if len(p) != 3 || !companyRef(p[0], p[1], 12, true) || len(p[2]) > 19 ||
				(p[2] != "" && !reEPCChars.MatchString(p[2])) {
				return "", false
			}
			return base + "253/" + withCheck(p[0]+p[1]) + dlPercentEncode(p[2]), true
		case "sgcn":
			p := strings.SplitN(body, ".", 3)
			if len(p) != 3 || !companyRef(p[0], p[1], 12, true) || len(p[2]) < 1 || len(p[2]) > 12 || !isDigits(p[2]) {
				return "", false
			}
			return base + "255/" + withCheck(p[0]+p[1]) + p[2], true
		case "cpi":
			i := strings.Index(body, ".")
			j := strings.LastIndex(body, ".")
			if i < 0 || j <= i {
				return "", false
			}
			cp, ref, ser := body[:i], body[i+1:j], body[j+1:]
			if len(cp) < 6 || len(cp) > 12 || !isDigits(cp) || ref == "" || !reCPIChars.MatchString(ref) ||
				len(ser) < 1 || len(ser) > 12 || !isDigits(ser) || len(cp)+len(ref) > 30 {
				return "", false
			}
			return base + "8010/" + dlPercentEncode(cp+ref) + "/8011/" + ser, true
		case "gsin":
			p := strings.Split(body, ".")
			if len(p) != 2 || !companyRef(p[0], p[1], 16, false) {
				return "", false
			}
			return base + "402/" + withCheck(p[0]+p[1]), true
		case "itip":
			p := strings.SplitN(body, ".", 5)
			if len(p) != 5 || !companyRef(p[0], p[1], 13, false) || len(p[2]) != 2 || !isDigits(p[2]) ||
				len(p[3]) != 2 || !isDigits(p[3]) || !reEPCSerial20.MatchString(p[4]) {
				return "", false
			}
			return base + "8006/" + gtinFrom(p[0], p[1]) + p[2] + p[3] + "/21/" + dlPercentEncode(p[4]), true
		case "pgln":
			p := strings.Split(body, ".")
			if len(p) != 2 || !companyRef(p[0], p[1], 12, true) {
				return "", false
			}
			return base + "417/" + withCheck(p[0]+p[1]), true
		}
	case strings.HasPrefix(u, "urn:epc:class:lgtin:"):
		p := strings.SplitN(u[len("urn:epc:class:lgtin:"):], ".", 3)
		if len(p) != 3 || !companyRef(p[0], p[1], 13, false) || !reEPCSerial20.MatchString(p[2]) {
			return "", false
		}
		return base + "01/" + gtinFrom(p[0], p[1]) + "/10/" + dlPercentEncode(p[2]), true
	case strings.HasPrefix(u, "urn:epc:idpat:"):
		scheme, body, ok := strings.Cut(u[len("urn:epc:idpat:"):], ":")
		if !ok || !strings.HasSuffix(body, ".*") {
			return "", false
		}
		body = strings.TrimSuffix(body, ".*")
		p := strings.Split(body, ".")
		switch scheme {
		case "sgtin", "upui":
			if len(p) == 2 && companyRef(p[0], p[1], 13, false) {
				return base + "01/" + gtinFrom(p[0], p[1]), true
			}
		case "grai":
			if len(p) == 2 && companyRef(p[0], p[1], 12, true) {
				return base + "8003/" + withCheck("0"+p[0]+p[1]), true
			}
		case "gdti":
			if len(p) == 2 && companyRef(p[0], p[1], 12, true) {
				return base + "253/" + withCheck(p[0]+p[1]), true
			}
		case "sgcn":
			if len(p) == 2 && companyRef(p[0], p[1], 12, true) {
				return base + "255/" + withCheck(p[0]+p[1]), true
			}
		case "cpi":
			if len(p) == 2 && len(p[0]) >= 6 && len(p[0]) <= 12 && isDigits(p[0]) && reCPIChars.MatchString(p[1]) && len(p[0])+len(p[1]) <= 30 {
				return base + "8010/" + dlPercentEncode(p[0]+p[1]), true
			}
		case "itip":
			if len(p) == 4 && companyRef(p[0], p[1], 13, false) && len(p[2]) == 2 && isDigits(p[2]) && len(p[3]) == 2 && isDigits(p[3]) {
				return base + "8006/" + gtinFrom(p[0], p[1]) + p[2] + p[3], true
			}
		}
	}
	return "", false
}

var (
	// reDLCandidate recognises an http(s) URI whose path carries a GS1 primary key.
	reDLCandidate = regexp.MustCompile(`^https?:(//(([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?)?[^?#]*/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)/\d{4}[^/]+`)
	reDLCanonical = regexp.MustCompile(`^https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/\d{4}[^/]+`)
	dlNamedKeys   = strings.NewReplacer("/gtin/", "/01/", "/itip/", "/8006/", "/cpid/", "/8010/", "/gln/", "/414/",
		"/party/", "/417/", "/gsrnp/", "/8017/", "/gsrn/", "/8018/", "/gcn/", "/255/", "/sscc/", "/00/",
		"/gdti/", "/253/", "/ginc/", "/401/", "/gsin/", "/402/", "/grai/", "/8003/", "/giai/", "/8004/",
		"/cpv/", "/22/", "/lot/", "/10/", "/ser/", "/21/")
	dlKeyOrder = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/", "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}

	reGTIN14 = regexp.MustCompile(`^https://id.gs1.org/01/\d{14}`)
	reGTIN13 = regexp.MustCompile(`^https://id.gs1.org/01/\d{13}`)
	reGTIN12 = regexp.MustCompile(`^https://id.gs1.org/01/\d{12}`)
	reGTIN8  = regexp.MustCompile(`^https://id.gs1.org/01/\d{8}`)
)

// dlChar is the GS1 AI encodable character subset the hash accepts in values.
const dlChar = `["'\-.0-9;<=>?A-Z_a-z]`

var (
	reCPVEnd      = regexp.MustCompile(`^https://id.gs1.org/(?:8006/\d{18}|01/\d{14})/22/` + dlChar + `{0,20}$`)
	reCPVThenMore = regexp.MustCompile(`^https://id.gs1.org/(?:8006/\d{18}|01/\d{14})/22/(?:/|` + dlChar + `){0,20}$`)
	reLotSerial   = regexp.MustCompile(`^https://id.gs1.org/(?:8006/\d{18}|01/\d{14})/10/` + dlChar + `{0,20}/21/` + dlChar + `{0,20}$`)
	reDLFinal     = []*regexp.Regexp{
		regexp.MustCompile(`^https://id.gs1.org/00/\d{18}$`),
		regexp.MustCompile(`^https://id.gs1.org/01/\d{14}/21/` + dlChar + `{0,20}$`),
		regexp.MustCompile(`^https://id.gs1.org/01/\d{14}/10/` + dlChar + `{0,20}$`),
		regexp.MustCompile(`^https://id.gs1.org/01/\d{14}$`),
		regexp.MustCompile(`^https://id.gs1.org/01/\d{14}/235/` + dlChar + `{0,28}$`),
		regexp.MustCompile(`^https://id.gs1.org/253/\d{13}` + dlChar + `{0,17}$`),
		regexp.MustCompile(`^https://id.gs1.org/255/\d{13}\d{0,12}$`),
		regexp.MustCompile(`^https://id.gs1.org/401/` + dlChar + `{0,30}$`),
		regexp.MustCompile(`^https://id.gs1.org/402/\d{17}$`),
		regexp.MustCompile(`^https://id.gs1.org/414/\d{13}$`),
		regexp.MustCompile(`^https://id.gs1.org/414/\d{13}/254/` + dlChar + `{0,20}$`),
		regexp.MustCompile(`^https://id.gs1.org/417/\d{13}$`),
		regexp.MustCompile(`^https://id.gs1.org/8003/\d{14}` + dlChar + `{0,16}$`),
		regexp.MustCompile(`^https://id.gs1.org/8004/` + dlChar + `{0,30}$`),
		regexp.MustCompile(`^https://id.gs1.org/8006/\d{18}/21/` + dlChar + `{0,20}$`),
		regexp.MustCompile(`^https://id.gs1.org/8006/\d{18}/10/` + dlChar + `{0,20}$`),
		regexp.MustCompile(`^https://id.gs1.org/8006/\d{18}$`),
		regexp.MustCompile(`^https://id.gs1.org/8010/[#\-/0-9A-Z]{0,30}/8011/\d{0,12}$`),
		regexp.MustCompile(`^https://id.gs1.org/8010/[#\-/0-9A-Z]{0,30}$`),
		regexp.MustCompile(`^https://id.gs1.org/8017/\d{18}$`),
		regexp.MustCompile(`^https://id.gs1.org/8018/\d{18}$`),
	}
)

// dlConstrain reduces a GS1 Digital Link URI to the constrained canonical form.
func dlConstrain(u string) (string, bool) {
	if !reDLCandidate.MatchString(u) {
		return "", false
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	u = dlNamedKeys.Replace(u)
	if !reDLCanonical.MatchString(u) {
		for _, k := range dlKeyOrder {
			if i := strings.Index(u, k); i >= 0 {
				u = "https://id.gs1.org" + u[i:]
				break
			}
		}
	}
	if !reGTIN14.MatchString(u) {
		switch {
		case reGTIN13.MatchString(u):
			u = strings.Replace(u, "/01/", "/01/0", 1)
		case reGTIN12.MatchString(u):
			u = strings.Replace(u, "/01/", "/01/00", 1)
		case reGTIN8.MatchString(u):
			u = strings.Replace(u, "/01/", "/01/000000", 1)
		}
	}
	// Drop the consumer product variant: it is not part of the identity.
	if reCPVEnd.MatchString(u) {
		u = u[:strings.Index(u, "/22/")]
	} else if reCPVThenMore.MatchString(u) {
		i := strings.Index(u, "/22/")
		rest := u[i+4:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			u = u[:i] + rest[j:]
		} else {
			u = u[:i]
		}
	}
	// A serial identifies the instance; the lot above it is redundant.
	if reLotSerial.MatchString(u) {
		i := strings.Index(u, "/10/")
		rest := u[i+4:]
		u = u[:i] + rest[strings.IndexByte(rest, '/'):]
	}
	for _, re := range reDLFinal {
		if re.MatchString(u) {
			return u, true
		}
	}
	return "", false
}

// NormalizeID returns the constrained canonical GS1 Digital Link form of an
// EPC URI, EPC class/pattern URI or GS1 Digital Link URI, and false for any
// other identifier (which callers keep as written).
func NormalizeID(u string) (string, bool) {
	if !strings.Contains(u, ".") {
		return "", false
	}
	if strings.HasPrefix(u, "urn:epc:") {
		return epcToDL(u)
	}
	if !strings.HasPrefix(u, "http") {
		return "", false
	}
	return dlConstrain(u)
}
