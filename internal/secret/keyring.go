// Package secret seals small secrets (access key secrets, client secrets, API keys, tokens)
// for storage in the database with AES-256-GCM under keys kept in a file outside it.
//
// A Keyring holds one or more 32-byte keys, each named by a short id. Seal always uses the
// active key (the last one in the key file) and writes its id into the output, so Open keeps
// working after a new key is appended: rotation is "append a line, restart, re-seal at
// leisure". A Keyring is immutable once built and safe for concurrent use.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/errdefs"
)

// KeySize is the length of every key: AES-256.
const KeySize = 32

const (
	keyFileHeader = "# berth secret keyring v1: one \"<key id> <base64 key>\" per line; the last line is the active key."
	maxKeyIDLen   = 64
)

// Keyring is a set of AES-256-GCM keys with one active key.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
}

// NewKeyring builds a keyring holding one key, which becomes the active key.
func NewKeyring(id string, key []byte) (*Keyring, error) {
	kr := &Keyring{aeads: make(map[string]cipher.AEAD)}
	if err := kr.add(id, key); err != nil {
		return nil, err
	}
	return kr, nil
}

// KeyID returns the id of the active key, the one Seal uses.
func (k *Keyring) KeyID() string { return k.active }

func (k *Keyring) add(id string, key []byte) error {
	if !validKeyID(id) {
		return fmt.Errorf("add key %q: %w: a key id is 1-%d characters of [A-Za-z0-9._-]", id, errdefs.ErrInvalidArgument, maxKeyIDLen)
	}
	if len(key) != KeySize {
		return fmt.Errorf("add key %q: %w: key is %d bytes, want %d", id, errdefs.ErrInvalidArgument, len(key), KeySize)
	}
	if _, dup := k.aeads[id]; dup {
		return fmt.Errorf("add key %q: %w: duplicate key id", id, errdefs.ErrInvalidArgument)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("add key %q: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("add key %q: %w", id, err)
	}
	k.aeads[id] = aead
	k.active = id
	return nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// LoadOrCreateKeyring reads the key file at path, or creates it (mode 0600, parent
// directories 0700) holding one new random key if it does not exist. A key file readable or
// writable by group or others is refused, as ssh refuses such private keys.
func LoadOrCreateKeyring(path string) (*Keyring, error) {
	path = filepath.Clean(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyring(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat key file %s: %w", path, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("load key file %s: %w: mode %04o lets group or others access it; run chmod 600 %s",
			path, errdefs.ErrPermissionDenied, perm, path)
	}
	kr, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("load key file %s: %w", path, err)
	}
	return kr, nil
}

func parseKeyFile(data []byte) (*Keyring, error) {
	kr := &Keyring{aeads: make(map[string]cipher.AEAD)}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, enc, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("line %d: %w: want \"<key id> <base64 key>\"", n+1, errdefs.ErrInvalidArgument)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w: key is not base64", n+1, errdefs.ErrInvalidArgument)
		}
		if err := kr.add(id, key); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
	}
	if kr.active == "" {
		return nil, fmt.Errorf("%w: the key file holds no key", errdefs.ErrInvalidArgument)
	}
	return kr, nil
}

func createKeyring(path string) (*Keyring, error) {
	var raw [4]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (it crashes the program instead)
	id := "k" + hex.EncodeToString(raw[:])
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	kr, err := NewKeyring(id, key)
	if err != nil {
		return nil, err
	}
	content := keyFileHeader + "\n" + id + " " + base64.StdEncoding.EncodeToString(key) + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	// WriteNewFile fails if another process created the key file since we looked: then we use
	// its key rather than replace it, or secrets sealed under that key would become
	// unreadable. Readers never see a half-written file.
	if err := atomicfile.WriteNewFile(path, []byte(content), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyring(path)
		}
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	return kr, nil
}
