package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func testKeyring(t *testing.T, id string, fill byte) *Keyring {
	t.Helper()
	kr, err := NewKeyring(id, bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestKeyring_Seal_RoundTrip(t *testing.T) {
	kr := testKeyring(t, "k1", 7)
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty plaintext", nil, []byte("AKIAEXAMPLE")},
		{"access key secret", []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("AKIAEXAMPLE")},
		{"no aad", []byte("token"), nil},
		{"binary", []byte{0, 1, 2, 255, 254}, []byte{0}},
		{"large", bytes.Repeat([]byte("x"), 1<<16), []byte("row")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := kr.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("seal: %v", err)
			}
			if len(tt.plaintext) > 4 && bytes.Contains(sealed, tt.plaintext) {
				t.Fatal("sealed output contains the plaintext")
			}
			if id, err := KeyIDOf(sealed); err != nil || id != "k1" {
				t.Errorf("KeyIDOf = %q, %v; want k1", id, err)
			}
			got, err := kr.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("open = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestKeyring_Seal_FreshNonceEachTime(t *testing.T) {
	kr := testKeyring(t, "k1", 7)
	a, err := kr.Seal([]byte("same"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := kr.Seal([]byte("same"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestKeyring_Open_Rejects(t *testing.T) {
	kr := testKeyring(t, "k1", 7)
	sealed, err := kr.Seal([]byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("AKIAONE"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	sameIDOtherKey := testKeyring(t, "k1", 8)
	otherID := testKeyring(t, "k2", 7)
	// Rewrite the key id in the header to another id the keyring also knows.
	renamed := bytes.Clone(sealed)
	renamed[3] = '2' // "k1" -> "k2"
	both, err := NewKeyring("k2", bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if err := both.add("k1", bytes.Repeat([]byte{7}, KeySize)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		kr     *Keyring
		sealed []byte
		aad    []byte
		want   error
	}{
		{"wrong aad", kr, sealed, []byte("AKIATWO"), ErrCorrupt},
		{"missing aad", kr, sealed, nil, ErrCorrupt},
		{"tampered ciphertext", kr, flip(len(sealed) - tagSize - 1), []byte("AKIAONE"), ErrCorrupt},
		{"tampered tag", kr, flip(len(sealed) - 1), []byte("AKIAONE"), ErrCorrupt},
		{"tampered nonce", kr, flip(4), []byte("AKIAONE"), ErrCorrupt},
		{"tampered version", kr, flip(0), []byte("AKIAONE"), ErrCorrupt},
		{"truncated", kr, sealed[:len(sealed)-1], []byte("AKIAONE"), ErrCorrupt},
		{"too short", kr, sealed[:5], []byte("AKIAONE"), ErrCorrupt},
		{"empty", kr, nil, []byte("AKIAONE"), ErrCorrupt},
		{"wrong key with the same id", sameIDOtherKey, sealed, []byte("AKIAONE"), ErrCorrupt},
		{"key id not in keyring", otherID, sealed, []byte("AKIAONE"), ErrUnknownKey},
		{"key id swapped to another known key", both, renamed, []byte("AKIAONE"), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kr.Open(tt.sealed, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("open: (%q, %v), want error %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("open returned plaintext %q alongside an error", got)
			}
		})
	}
}

func TestNewKeyring_Invalid(t *testing.T) {
	tests := []struct {
		name string
		id   string
		key  []byte
	}{
		{"empty id", "", bytes.Repeat([]byte{1}, KeySize)},
		{"id with space", "a b", bytes.Repeat([]byte{1}, KeySize)},
		{"long id", string(bytes.Repeat([]byte("a"), 65)), bytes.Repeat([]byte{1}, KeySize)},
		{"short key", "k", []byte("short")},
		{"long key", "k", bytes.Repeat([]byte{1}, KeySize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.id, tt.key); err == nil {
				t.Fatal("NewKeyring succeeded")
			}
		})
	}
}
