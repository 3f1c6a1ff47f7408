package webpush

import (
	"bytes"
	"crypto/ecdh"
	"testing"
)

// rfc8291 is the worked example of RFC 8291 Appendix A (base64url): fixed
// user-agent and application-server keys, auth secret and salt, with the
// intermediate values and the exact message body the RFC publishes.
var rfc8291 = struct {
	plain, uaPriv, uaPub, asPriv, asPub, auth, salt, secret, cek, nonce, body string
}{
	plain:  "When I grow up, I want to be a watermelon",
	uaPriv: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
	uaPub:  "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
	asPriv: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
	asPub:  "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
	auth:   "BTBZMqHH6r4Tts7J_aSIgg",
	salt:   "DGv6ra1nlYgDCS1FRnbzlw",
	secret: "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs",
	cek:    "oIhVW04MRdy2XN9CiKLxTg",
	nonce:  "4h_95klXJ5E_qnoN",
	body: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" +
		"mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT" +
		"pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}

func dec(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return b
}

// TestRFC8291KnownAnswer: with the RFC's keys and salt our encryption gives
// its exact message body byte for byte (and every intermediate value on the
// way), and Decrypt opens the RFC's body with the user agent's key.
func TestRFC8291KnownAnswer(t *testing.T) {
	v := rfc8291
	ua, err := ecdh.P256().NewPrivateKey(dec(t, v.uaPriv))
	if err != nil {
		t.Fatal(err)
	}
	as, err := ecdh.P256().NewPrivateKey(dec(t, v.asPriv))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ua.PublicKey().Bytes(), dec(t, v.uaPub)) || !bytes.Equal(as.PublicKey().Bytes(), dec(t, v.asPub)) {
		t.Fatal("the RFC's private keys do not give its public keys")
	}
	secret, err := as.ECDH(ua.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, dec(t, v.secret)) {
		t.Fatalf("ecdh_secret %x", secret)
	}
	cek, nonce, err := keys(secret, dec(t, v.auth), dec(t, v.uaPub), dec(t, v.asPub), dec(t, v.salt))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cek, dec(t, v.cek)) || !bytes.Equal(nonce, dec(t, v.nonce)) {
		t.Fatalf("CEK %x NONCE %x, want the RFC's", cek, nonce)
	}

	got, err := encrypt(ua.PublicKey(), dec(t, v.auth), as, dec(t, v.salt), []byte(v.plain))
	if err != nil {
		t.Fatal(err)
	}
	if want := dec(t, v.body); !bytes.Equal(got, want) {
		t.Fatalf("body differs from RFC 8291 Appendix A\n got %x\nwant %x", got, want)
	}

	plain, err := Decrypt(ua, dec(t, v.auth), dec(t, v.body))
	if err != nil || string(plain) != v.plain {
		t.Fatalf("Decrypt(RFC body) = %q, %v", plain, err)
	}
	// One flipped bit of the RFC's ciphertext does not open.
	bad := dec(t, v.body)
	bad[len(bad)-1] ^= 1
	if _, err := Decrypt(ua, dec(t, v.auth), bad); err == nil {
		t.Fatal("a tampered body opened")
	}
}
