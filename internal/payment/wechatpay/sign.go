package wechatpay

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SignMessage signs a WeChat Pay message (lines joined by "\n", each line
// followed by "\n") with RSA PKCS#1 v1.5 over SHA-256, base64.
func SignMessage(key *rsa.PrivateKey, lines ...string) (string, error) {
	sum := sha256.Sum256([]byte(message(lines...)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyMessage checks a base64 signature over the lines.
func VerifyMessage(pub *rsa.PublicKey, sig string, lines ...string) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(message(lines...)))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw)
}

func message(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Authorization is the request header value: the merchant signs
// method, path with query, timestamp, nonce and body.
func Authorization(key *rsa.PrivateKey, mchid, serial, method, pathQuery, ts, nonce, body string) (string, error) {
	sig, err := SignMessage(key, method, pathQuery, ts, nonce, body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"`,
		mchid, nonce, sig, ts, serial), nil
}

// ParseAuthorization reads the fields of an Authorization header (the fake
// server checks ShelfLive's requests with it).
func ParseAuthorization(h string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(h, "WECHATPAY2-SHA256-RSA2048 ")
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, false
		}
		out[k] = strings.Trim(v, `"`)
	}
	return out, true
}

// Resource is an encrypted callback (or certificate) resource.
type Resource struct {
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	OriginalType   string `json:"original_type,omitempty"`
	Nonce          string `json:"nonce"`
}

// Decrypt opens an AEAD_AES_256_GCM resource with the APIv3 key.
func (r *Resource) Decrypt(apiv3Key string) ([]byte, error) {
	if r.Algorithm != "AEAD_AES_256_GCM" || len(apiv3Key) != 32 {
		return nil, errors.New("wechatpay: unsupported resource algorithm")
	}
	ct, err := base64.StdEncoding.DecodeString(r.Ciphertext)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher([]byte(apiv3Key))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(r.Nonce))
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, []byte(r.Nonce), ct, []byte(r.AssociatedData))
}

// Encrypt seals plain into a resource (the fake server's side).
func Encrypt(apiv3Key string, plain []byte, associatedData, originalType string) (*Resource, error) {
	block, err := aes.NewCipher([]byte(apiv3Key))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 12)
	if err != nil {
		return nil, err
	}
	nonce := NonceStr()[:12]
	ct := gcm.Seal(nil, []byte(nonce), plain, []byte(associatedData))
	return &Resource{Algorithm: "AEAD_AES_256_GCM", Ciphertext: base64.StdEncoding.EncodeToString(ct),
		AssociatedData: associatedData, OriginalType: originalType, Nonce: nonce}, nil
}

// NonceStr is a random 32-character nonce.
func NonceStr() string {
	b := make([]byte, 16)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
