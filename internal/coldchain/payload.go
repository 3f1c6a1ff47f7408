package coldchain

// The telemetry message: its JSON shape and checks (Payload, ParsePayload,
// the fast parser), and the MQTT topics it arrives on.

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/apperr"
)

// Payload is the JSON a sensor publishes: {"ts": <unix ms>, "values":
// {"temperature": 3.2, "humidity": 71}}.
type Payload struct {
	TS     int64 `json:"ts"`
	Values struct {
		Temperature *float64 `json:"temperature"`
		Humidity    *float64 `json:"humidity"`
	} `json:"values"`
}

// ParsePayload decodes and checks one telemetry message. A reading without
// a time gets the receive time; one too far in the future is refused (a
// clock set wrong would otherwise hide the present).
func ParsePayload(b []byte, now time.Time) (ts int64, temp, hum float64, err error) {
	p, ok := fastPayload(b)
	if !ok {
		p = Payload{}
		if err := json.Unmarshal(b, &p); err != nil {
			return 0, 0, 0, ErrBadReading
		}
	}
	return checkReading(p, now)
}

var (
	// ErrMissingTemperature refuses a reading without a temperature.
	ErrMissingTemperature = apperr.InvalidField("values.temperature", "missing_temperature", "缺少温度值", "values.temperature is required.")
	// ErrTemperature refuses a temperature out of the sensor's range.
	ErrTemperature = apperr.InvalidField("values.temperature", "invalid_temperature", "温度超出传感器量程", "Temperature out of sensor range (-100..100 °C).")
	// ErrHumidity refuses a humidity out of 0..100 %.
	ErrHumidity = apperr.InvalidField("values.humidity", "invalid_humidity", "湿度须在0-100之间", "Humidity must be 0..100 %.")
	// ErrTimestamp refuses a reading's ts that is not Unix milliseconds.
	ErrTimestamp = apperr.InvalidField("ts", "invalid_ts", "时间戳无效（Unix 毫秒）", "Invalid ts (unix milliseconds).")
)

func checkReading(p Payload, now time.Time) (int64, float64, float64, error) {
	if p.Values.Temperature == nil {
		return 0, 0, 0, ErrMissingTemperature
	}
	t := *p.Values.Temperature
	if math.IsNaN(t) || t < -100 || t > 100 {
		return 0, 0, 0, ErrTemperature
	}
	h := math.NaN()
	if p.Values.Humidity != nil {
		h = *p.Values.Humidity
		if h < 0 || h > 100 {
			return 0, 0, 0, ErrHumidity
		}
	}
	ts := p.TS
	nowMS := now.UnixMilli()
	if ts == 0 {
		ts = nowMS
	}
	if ts > nowMS+5*60_000 || ts < 946684800000 { // > 5 min ahead, or before 2000
		return 0, 0, 0, ErrTimestamp
	}
	return ts, t, h, nil
}

// TopicFilter subscribes to every device's telemetry.
const TopicFilter = "shelflive/+/devices/+/telemetry"

// Topic returns the telemetry topic of a device.
func Topic(merchantSlug, deviceKey string) string {
	return "shelflive/" + merchantSlug + "/devices/" + deviceKey + "/telemetry"
}

// ParseTopic splits a telemetry topic into merchant slug and device id.
func ParseTopic(topic string) (slug, key string, ok bool) {
	rest, ok := strings.CutPrefix(topic, "shelflive/")
	if !ok {
		return "", "", false
	}
	slug, rest, ok = strings.Cut(rest, "/devices/")
	if !ok || slug == "" {
		return "", "", false
	}
	key, ok = strings.CutSuffix(rest, "/telemetry")
	if !ok || key == "" || strings.Contains(key, "/") {
		return "", "", false
	}
	return slug, key, true
}

// BatchItem is one reading of an HTTP gateway batch.
type BatchItem = Payload

// fastPayload parses the common telemetry message shape without
// reflection: {"ts": <int>, "values": {"temperature": <num>, "humidity":
// <num>}} in any key order, with whitespace. Anything else (escapes,
// other keys, duplicate keys, odd numbers) returns ok=false and the caller
// falls back to encoding/json, whose verdict stands; a differential fuzz
// test keeps the two in agreement. JSON decoding was a seventh of the
// broker's CPU at 50,000 readings/s.
func fastPayload(b []byte) (p Payload, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return p, false
	}
	i++
	var seenTS, seenValues bool
	for {
		i = skipWS(b, i)
		if i < len(b) && b[i] == '}' && !seenTS && !seenValues {
			return p, false // {} : let encoding/json say what it thinks
		}
		key, j, ok := rawString(b, i)
		if !ok {
			return p, false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return p, false
		}
		i = skipWS(b, i+1)
		switch key {
		case "ts":
			if seenTS {
				return p, false
			}
			seenTS = true
			num, j, ok := rawNumber(b, i)
			if !ok {
				return p, false
			}
			v, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				return p, false
			}
			p.TS, i = v, j
		case "values":
			if seenValues {
				return p, false
			}
			seenValues = true
			j, ok := fastValues(b, i, &p)
			if !ok {
				return p, false
			}
			i = j
		default:
			return p, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return p, false
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '}' {
			return p, false
		}
		return p, skipWS(b, i+1) == len(b)
	}
}

func fastValues(b []byte, i int, p *Payload) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i++
	var seenT, seenH bool
	for {
		i = skipWS(b, i)
		key, j, ok := rawString(b, i)
		if !ok {
			return i, false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		i = skipWS(b, i+1)
		num, j, ok := rawNumber(b, i)
		if !ok {
			return i, false
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return i, false
		}
		switch {
		case key == "temperature" && !seenT:
			seenT = true
			p.Values.Temperature = &v
		case key == "humidity" && !seenH:
			seenH = true
			p.Values.Humidity = &v
		default:
			return i, false
		}
		i = skipWS(b, j)
		if i >= len(b) {
			return i, false
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '}' {
			return i, false
		}
		return i + 1, true
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// rawString reads a JSON string without escapes or control characters.
func rawString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", i, false
		}
	}
	return "", i, false
}

// rawNumber reads a JSON number token (strict grammar).
func rawNumber(b []byte, i int) (string, int, bool) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return "", start, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return "", start, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return "", start, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return "", start, false
		}
	}
	return string(b[start:i]), i, true
}
