package secret

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealed format, version 1:
//
//	0x01 | len(keyID) (1 byte) | keyID | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The GCM additional data is the header (version, length and key id) followed by the
// caller's aad, so neither the key id nor the aad can be swapped without Open failing.
const (
	formatV1  = 0x01
	nonceSize = 12
	tagSize   = 16
)

// Errors returned by Open; test with errors.Is.
var (
	// ErrUnknownKey means the sealed value names a key id this keyring does not hold.
	ErrUnknownKey = errors.New("sealed with a key this keyring does not hold")
	// ErrCorrupt means the value is malformed, was modified, or was sealed with another key
	// or other associated data.
	ErrCorrupt = errors.New("sealed value is corrupt, was tampered with, or belongs to other associated data")
)

// Seal encrypts plaintext under the active key. aad (for example the id of the row the secret
// belongs to) is authenticated but not stored: Open must be given the same aad.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[k.active]
	if !ok {
		return nil, fmt.Errorf("seal secret: %w", ErrUnknownKey)
	}
	header := make([]byte, 0, 2+len(k.active))
	header = append(header, formatV1, byte(len(k.active)))
	header = append(header, k.active...)

	out := make([]byte, 0, len(header)+nonceSize+len(plaintext)+tagSize)
	out = append(out, header...)
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (it crashes the program instead)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, additionalData(header, aad)), nil
}

// Open decrypts a value made by Seal with the same aad. It fails with ErrUnknownKey when the
// key is not in the keyring and ErrCorrupt when anything else is wrong.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != formatV1 {
		return nil, fmt.Errorf("open secret: %w: unknown format", ErrCorrupt)
	}
	idLen := int(sealed[1])
	if len(sealed) < 2+idLen+nonceSize+tagSize {
		return nil, fmt.Errorf("open secret: %w: too short", ErrCorrupt)
	}
	header := sealed[:2+idLen]
	keyID := string(header[2:])
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("open secret: key %q: %w", keyID, ErrUnknownKey)
	}
	nonce := sealed[len(header) : len(header)+nonceSize]
	plaintext, err := aead.Open(nil, nonce, sealed[len(header)+nonceSize:], additionalData(header, aad))
	if err != nil {
		return nil, fmt.Errorf("open secret: %w", ErrCorrupt)
	}
	return plaintext, nil
}

// KeyIDOf returns the id of the key a sealed value was sealed with, so callers can find
// values still sealed under an old key and re-seal them.
func KeyIDOf(sealed []byte) (string, error) {
	if len(sealed) < 2 || sealed[0] != formatV1 || len(sealed) < 2+int(sealed[1]) {
		return "", fmt.Errorf("read key id: %w: unknown format", ErrCorrupt)
	}
	return string(sealed[2 : 2+int(sealed[1])]), nil
}

func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}
