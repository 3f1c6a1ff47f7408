package epcis

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// unitConv converts a value in one UN/CEFACT Rec 20 unit to the canonical
// unit of its dimension: to(x) = x*scale + offset.
type unitConv struct {
	canonical string
	scale     float64
	offset    float64
}

// units lists the conversions ShelfLive knows. Temperature matters most:
// sensors report °F, °C or K and cold-chain rules are written in °C.
var units = map[string]unitConv{
	// temperature → CEL
	"CEL": {"CEL", 1, 0},
	"FAH": {"CEL", 5.0 / 9.0, -32 * 5.0 / 9.0},
	"KEL": {"CEL", 1, -273.15},
	// mass → KGM
	"KGM": {"KGM", 1, 0},
	"GRM": {"KGM", 1e-3, 0},
	"MGM": {"KGM", 1e-6, 0},
	"TNE": {"KGM", 1e3, 0},
	"LBR": {"KGM", 0.45359237, 0},
	"ONZ": {"KGM", 0.028349523125, 0},
	// length → MTR
	"MTR": {"MTR", 1, 0},
	"CMT": {"MTR", 1e-2, 0},
	"MMT": {"MTR", 1e-3, 0},
	"KMT": {"MTR", 1e3, 0},
	"INH": {"MTR", 0.0254, 0},
	"FOT": {"MTR", 0.3048, 0},
	// volume → LTR
	"LTR": {"LTR", 1, 0},
	"MLT": {"LTR", 1e-3, 0},
	"MTQ": {"LTR", 1e3, 0},
	// pressure → PAL
	"PAL": {"PAL", 1, 0},
	"KPA": {"PAL", 1e3, 0},
	"BAR": {"PAL", 1e5, 0},
	"A97": {"PAL", 1e2, 0}, // hectopascal
	"MBR": {"PAL", 1e2, 0}, // millibar
	// speed → KMH
	"KMH": {"KMH", 1, 0},
	"MTS": {"KMH", 3.6, 0},
}

// roundCanonical removes float noise from conversions (39.2 °F is 4 °C,
// not 4.000000000000001), so boundary queries behave.
func roundCanonical(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// ToCanonical converts a value to the canonical unit of its dimension.
// Units ShelfLive does not know are kept as they are (the unit is then its
// own canonical unit and only compares with itself).
func ToCanonical(v float64, uom string) (float64, string, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("value %v is not a finite number", v)
	}
	c, ok := units[strings.TrimSpace(uom)]
	if !ok {
		return v, uom, nil
	}
	return roundCanonical(v*c.scale + c.offset), c.canonical, nil
}

// CanonicalUnit returns the canonical unit a value in uom is stored in.
func CanonicalUnit(uom string) string {
	if c, ok := units[uom]; ok {
		return c.canonical
	}
	return uom
}

// KnownUnits lists the units with conversions, for documentation and errors.
func KnownUnits() []string {
	out := make([]string, 0, len(units))
	for k := range units {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
