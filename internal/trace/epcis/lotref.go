package epcis

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

var (
	reDLGTIN = regexp.MustCompile(`/(?:01|gtin)/(\d{8}|\d{12,14})(?:/|$)`)
	reDLLot  = regexp.MustCompile(`/(?:10|lot)/([^/?#]+)`)
	reDLSer  = regexp.MustCompile(`/(?:21|ser)/([^/?#]+)`)
)

// ParseLotRef reads what a shopper scans or an ERP sends to name a lot: a
// GS1 Digital Link (any domain, e.g. the QR on a pack:
// https://example.com/01/09506000134352/10/ABC123?17=240601), an EPC class
// URI (urn:epc:class:lgtin:…) or an item identifier (SGTIN as EPC URI or
// Digital Link). For a lot it returns the GTIN (14 digits) and the lot;
// for a serialised item without lot it returns the item's canonical
// Digital Link in item, to be resolved with trace.Service.LotOfItem.
func ParseLotRef(s string) (gtin, lot, item string, err error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "urn:epc:class:lgtin:"):
		dl, ok := epcToDL(s)
		if !ok {
			return "", "", "", fmt.Errorf("%q is not a valid LGTIN", s)
		}
		s = dl
	case strings.HasPrefix(s, "urn:epc:id:sgtin:"):
		dl, ok := epcToDL(s)
		if !ok {
			return "", "", "", fmt.Errorf("%q is not a valid SGTIN", s)
		}
		return "", "", dl, nil
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
	default:
		return "", "", "", fmt.Errorf("%q is not a GS1 Digital Link or EPC URI", s)
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	g := reDLGTIN.FindStringSubmatch(s)
	if g == nil {
		return "", "", "", fmt.Errorf("%q names no GTIN", s)
	}
	gtin = strings.Repeat("0", 14-len(g[1])) + g[1]
	if CheckDigit(gtin[:13]) != int(gtin[13]-'0') {
		return "", "", "", fmt.Errorf("GTIN %s has a wrong check digit", gtin)
	}
	if l := reDLLot.FindStringSubmatch(s); l != nil {
		lot, err = url.PathUnescape(l[1])
		if err != nil || lot == "" {
			return "", "", "", fmt.Errorf("%q has a malformed lot", s)
		}
		return gtin, lot, "", nil
	}
	if sr := reDLSer.FindStringSubmatch(s); sr != nil {
		return "", "", "https://id.gs1.org/01/" + gtin + "/21/" + sr[1], nil
	}
	return "", "", "", fmt.Errorf("%q names a product but no lot or item", s)
}
