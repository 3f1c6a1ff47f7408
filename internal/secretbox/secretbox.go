// Package secretbox seals small secrets for storage (merchants' payment
// keys): AES-256-GCM under a key derived with HKDF-SHA256 from the install's
// SHELFLIVE_SECRET_KEY. Each sealed value is bound to what it belongs to
// (the additional data, e.g. "payment:wechatpay:merchant:7"), so a row
// copied onto another merchant does not open. It imports no ShelfLive
// package: like objstore it is infrastructure.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MinKeyLen is the shortest SHELFLIVE_SECRET_KEY accepted (32 characters,
// e.g. `openssl rand -hex 32` gives 64).
const MinKeyLen = 32

// prefix names the format so a later key rotation can tell versions apart.
const prefix = "v1:"

// ErrOpen is returned for a value that does not open: another key, another
// owner (additional data), or a damaged value.
var ErrOpen = errors.New("secretbox: value does not open with this key")

// Box seals and opens values under one derived key.
type Box struct {
	aead cipher.AEAD
}

// New derives the sealing key from the install's secret.
func New(secret string) (*Box, error) {
	if len(secret) < MinKeyLen {
		return nil, fmt.Errorf("secretbox: SHELFLIVE_SECRET_KEY must be at least %d characters (try: openssl rand -hex 32)", MinKeyLen)
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), []byte("shelflive"), "shelflive at-rest secrets v1", 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain for the owner named by ad; the result is text.
func (b *Box) Seal(plain []byte, ad string) string {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, plain, []byte(ad))
	return prefix + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value sealed for the same owner.
func (b *Box) Open(sealed, ad string) ([]byte, error) {
	s, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return nil, ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(ad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
