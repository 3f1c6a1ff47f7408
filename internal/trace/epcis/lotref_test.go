package epcis

import "testing"

func TestParseLotRef(t *testing.T) {
	cases := []struct{ in, gtin, lot, item string }{
		{"https://example.com/01/09506000134352/10/ABC123?17=240601", "09506000134352", "ABC123", ""},
		{"https://id.gs1.org/gtin/9506000134352/lot/L%2F7", "09506000134352", "L/7", ""},
		{"urn:epc:class:lgtin:4012345.011111.FARM1", "04012345111118", "FARM1", ""},
		{"https://brand.example/01/04012345222227/10/Y24/21/3", "04012345222227", "Y24", ""},
		{"urn:epc:id:sgtin:4012345.022222.3", "", "", "https://id.gs1.org/01/04012345222227/21/3"},
		{"https://brand.example/01/04012345222227/21/3", "", "", "https://id.gs1.org/01/04012345222227/21/3"},
	}
	for _, c := range cases {
		g, l, it, err := ParseLotRef(c.in)
		if err != nil || g != c.gtin || l != c.lot || it != c.item {
			t.Errorf("%s: got %q %q %q %v", c.in, g, l, it, err)
		}
	}
	for _, bad := range []string{"", "hello", "https://example.com/01/09506000134353/10/A", "https://example.com/01/09506000134352", "urn:epc:class:lgtin:1.2.3"} {
		if _, _, _, err := ParseLotRef(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
