package realtime

import (
	"encoding/json"
	"strconv"
	"time"
)

// Frames are built with append rather than one json.Marshal of a struct per frame:
// the fixed parts are constants, the topic name is encoded once per topic, and the
// payload was encoded once by the publisher. See docs/PROTOCOL.md for the fields.

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return append(dst, b...)
}

func appendRaw(dst []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, raw...)
}

func encodeEvent(topicJSON []byte, seq uint64, typ string, data json.RawMessage) []byte {
	b := make([]byte, 0, 48+len(topicJSON)+len(typ)+len(data))
	b = append(b, `{"t":"ev","topic":`...)
	b = append(b, topicJSON...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"data":`...)
	b = appendRaw(b, data)
	return append(b, '}')
}

func encodeSnapshot(topicJSON []byte, epoch string, seq uint64, data json.RawMessage) []byte {
	b := make([]byte, 0, 64+len(topicJSON)+len(epoch)+len(data))
	b = append(b, `{"t":"snapshot","topic":`...)
	b = append(b, topicJSON...)
	b = append(b, `,"epoch":`...)
	b = appendJSONString(b, epoch)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"data":`...)
	b = appendRaw(b, data)
	return append(b, '}')
}

func encodeMe(topicJSON []byte, typ string, data json.RawMessage) []byte {
	b := make([]byte, 0, 40+len(topicJSON)+len(typ)+len(data))
	b = append(b, `{"t":"me","topic":`...)
	b = append(b, topicJSON...)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"data":`...)
	b = appendRaw(b, data)
	return append(b, '}')
}

func encodeBatch(topicJSON []byte, comments []Comment, dropped int, likes, likesDelta int64, viewers int) []byte {
	cs, _ := json.Marshal(comments) // Comment always encodes
	b := make([]byte, 0, 96+len(topicJSON)+len(cs))
	b = append(b, `{"t":"batch","topic":`...)
	b = append(b, topicJSON...)
	b = append(b, `,"comments":`...)
	b = append(b, cs...)
	b = append(b, `,"dropped":`...)
	b = strconv.AppendInt(b, int64(dropped), 10)
	b = append(b, `,"likes":`...)
	b = strconv.AppendInt(b, likes, 10)
	b = append(b, `,"likes_delta":`...)
	b = strconv.AppendInt(b, likesDelta, 10)
	b = append(b, `,"viewers":`...)
	b = strconv.AppendInt(b, int64(viewers), 10)
	return append(b, '}')
}

func encodeOwn(topicJSON []byte, comments []Comment) []byte {
	cs, _ := json.Marshal(comments)
	b := make([]byte, 0, 32+len(topicJSON)+len(cs))
	b = append(b, `{"t":"own","topic":`...)
	b = append(b, topicJSON...)
	b = append(b, `,"comments":`...)
	b = append(b, cs...)
	return append(b, '}')
}

// HelloFrame is the first frame of every connection.
func HelloFrame(epoch string, now time.Time) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"t":"hello","epoch":`...)
	b = appendJSONString(b, epoch)
	b = append(b, `,"server_time":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, '}')
}

// PongFrame answers a client {"t":"ping"}.
func PongFrame(now time.Time) []byte {
	b := make([]byte, 0, 40)
	b = append(b, `{"t":"pong","server_time":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, '}')
}

// ByeFrame is the last frame before the server closes a connection.
func ByeFrame(code, reason string) []byte {
	b := make([]byte, 0, 48+len(code)+len(reason))
	b = append(b, `{"t":"bye","code":`...)
	b = appendJSONString(b, code)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, reason)
	return append(b, '}')
}
