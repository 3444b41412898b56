package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

func TestKeyring_LoadOrCreateKeyring_CreatesThenReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "secret.key")

	first, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", perm)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatalf("stat dir: %v", err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("key dir mode = %04o, want 0700", perm)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key dir holds %d entries, want only the key file (temporary file left behind?)", len(entries))
	}

	sealed, err := first.Seal([]byte("hunter2"), []byte("row-1"))
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	second, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if second.KeyID() != first.KeyID() {
		t.Errorf("reloaded key id = %q, want %q", second.KeyID(), first.KeyID())
	}
	got, err := second.Open(sealed, []byte("row-1"))
	if err != nil {
		t.Fatalf("open with reloaded keyring: %v", err)
	}
	if string(got) != "hunter2" {
		t.Errorf("open = %q, want %q", got, "hunter2")
	}
}

func TestKeyring_LoadOrCreateKeyring_ConcurrentCreatorsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kr, err := LoadOrCreateKeyring(path)
			errs[i] = err
			if err == nil {
				ids[i] = kr.KeyID()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("creator %d got key %q, creator 0 got %q: a key was replaced", i, ids[i], ids[0])
		}
	}
}

func TestKeyring_LoadOrCreateKeyring_RefusesLoosePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	if _, err := LoadOrCreateKeyring(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreateKeyring(path)
	if !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Fatalf("load 0644 key file: err = %v, want ErrPermissionDenied", err)
	}
	if !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("error %q does not tell the user how to fix it", err)
	}
}

func TestKeyring_LoadOrCreateKeyring_Rotation(t *testing.T) {
	oldKey := bytes.Repeat([]byte{1}, KeySize)
	newKey := bytes.Repeat([]byte{2}, KeySize)
	oldRing, err := NewKeyring("old", oldKey)
	if err != nil {
		t.Fatal(err)
	}
	sealedOld, err := oldRing.Seal([]byte("sealed before rotation"), nil)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "secret.key")
	content := "# comment\nold " + b64(oldKey) + "\n\nnew " + b64(newKey) + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	kr, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if kr.KeyID() != "new" {
		t.Errorf("active key = %q, want the last line's %q", kr.KeyID(), "new")
	}
	got, err := kr.Open(sealedOld, nil)
	if err != nil || string(got) != "sealed before rotation" {
		t.Errorf("open value sealed under the old key = %q, %v", got, err)
	}
	sealedNew, err := kr.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := KeyIDOf(sealedNew); err != nil || id != "new" {
		t.Errorf("KeyIDOf(new seal) = %q, %v; want %q", id, err, "new")
	}
	if _, err := oldRing.Open(sealedNew, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("open new seal with the old keyring: err = %v, want ErrUnknownKey", err)
	}
}

func TestKeyring_LoadOrCreateKeyring_Malformed(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"only comments", "# nothing here\n"},
		{"no separator", "k1\n"},
		{"not base64", "k1 !!!!\n"},
		{"short key", "k1 " + b64([]byte("short")) + "\n"},
		{"bad id", "k/1 " + b64(bytes.Repeat([]byte{1}, KeySize)) + "\n"},
		{"duplicate id", "k1 " + b64(bytes.Repeat([]byte{1}, KeySize)) + "\nk1 " + b64(bytes.Repeat([]byte{2}, KeySize)) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateKeyring(path); !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("load: err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}
