package fanout

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// parseFrame reads one server frame (RFC 6455 §5.2) at the start of b. n is
// the frame's length in b, 0 when more bytes are needed; bad marks a stream
// that cannot be valid (a frame over 64 MiB). A masked server frame is
// unmasked in place.
func parseFrame(b []byte) (fin bool, op byte, payload []byte, n int, bad bool) {
	if len(b) < 2 {
		return
	}
	fin, op = b[0]&0x80 != 0, b[0]&0x0f
	masked := b[1]&0x80 != 0
	size, h := uint64(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return
		}
		size, h = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return
		}
		size, h = binary.BigEndian.Uint64(b[2:10]), 10
	}
	if size > 64<<20 {
		return fin, op, nil, 0, true
	}
	if masked {
		h += 4
	}
	if uint64(len(b)) < uint64(h)+size {
		return
	}
	payload = b[h : h+int(size)]
	if masked {
		mask := b[h-4 : h]
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return fin, op, payload, h + int(size), false
}

// clientFrame is one masked, final client frame of any length (clients must mask).
func clientFrame(op byte, p []byte) []byte {
	b := make([]byte, 0, 14+len(p))
	b = append(b, 0x80|op)
	switch {
	case len(p) <= 125:
		b = append(b, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		b = append(b, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, x := range p {
		b = append(b, x^mask[i%4])
	}
	return b
}

// handshake performs the HTTP upgrade on c (request target path, extra header
// lines) and returns the bytes that followed the response head.
func handshake(c net.Conn, host, path, header string) ([]byte, error) {
	var key [16]byte
	rand.Read(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" + header + "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil, err
	}
	var head []byte
	var b [1024]byte
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		n, err := c.Read(b[:])
		if err != nil {
			return nil, fmt.Errorf("handshake: %w", err)
		}
		head = append(head, b[:n]...)
		if len(head) > 16<<10 {
			return nil, errors.New("handshake: response head too long")
		}
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
		line, _, _ := bytes.Cut(head, []byte("\r\n"))
		return nil, fmt.Errorf("handshake: %s", line)
	}
	i := bytes.Index(head, []byte("\r\n\r\n")) + 4
	return append([]byte(nil), head[i:]...), nil
}
