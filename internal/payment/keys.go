package payment

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"

	"github.com/shelflive/shelflive/internal/apperr"
)

// MinRSABits is the smallest RSA key either vendor issues.
const MinRSABits = 2048

// pemOrBare returns the DER bytes of a PEM block, or of bare base64 (what
// Alipay's key tool shows: the key without BEGIN/END lines).
func pemOrBare(s string) []byte {
	s = strings.TrimSpace(s)
	if b, _ := pem.Decode([]byte(s)); b != nil {
		return b.Bytes
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil
	}
	return der
}

// ErrPrivateKey refuses a merchant's private key that does not parse.
var ErrPrivateKey = apperr.InvalidField("private_key", "invalid_private_key", "私钥无法解析：请粘贴完整的 RSA 私钥（2048 位及以上，PEM 格式）", "The private key does not parse: paste the whole RSA private key (2048 bits or more, PEM).")

// ParsePrivateKey reads an RSA private key (PKCS#8 or PKCS#1, PEM or bare
// base64) of at least 2048 bits; field names the input for the error.
func ParsePrivateKey(field, s string) (*rsa.PrivateKey, error) {
	bad := ErrPrivateKey.At(field)
	der := pemOrBare(s)
	if der == nil {
		return nil, bad
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, bad
		}
		key = rk
	} else if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		key = k
	} else {
		return nil, bad
	}
	if key.N.BitLen() < MinRSABits {
		return nil, bad
	}
	return key, nil
}

// ErrPublicKey refuses a vendor public key that does not parse.
var ErrPublicKey = apperr.InvalidField("public_key", "invalid_public_key", "公钥无法解析：请粘贴完整的 RSA 公钥（PEM 格式）", "The public key does not parse: paste the whole RSA public key (PEM).")

// ParsePublicKey reads an RSA public key (PKIX or PKCS#1, PEM or bare
// base64; a certificate's key too) of at least 2048 bits.
func ParsePublicKey(field, s string) (*rsa.PublicKey, error) {
	bad := ErrPublicKey.At(field)
	der := pemOrBare(s)
	if der == nil {
		return nil, bad
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		pub, _ = k.(*rsa.PublicKey)
	} else if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		pub = k
	} else if c, err := x509.ParseCertificate(der); err == nil {
		pub, _ = c.PublicKey.(*rsa.PublicKey)
	}
	if pub == nil || pub.N.BitLen() < MinRSABits {
		return nil, bad
	}
	return pub, nil
}

// Fingerprint names a public key without revealing anything: the first 16
// hex digits of the SHA-256 of its PKIX encoding (what the admin sees).
func Fingerprint(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:8])
}
