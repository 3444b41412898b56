package auth

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/internal/secret"
	"berth.dev/berth/internal/store/sqlite"
)

// TestEnsureAdminKey_SQLiteRestarts runs the server's start sequence twice against the real
// SQLite store and key file: first start creates the key and the credentials file, the key
// signs requests; a later start (fresh store handle, keyring reloaded from disk, file
// deleted) rewrites the same credentials and they still verify.
func TestEnsureAdminKey_SQLiteRestarts(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath, credPath := filepath.Join(dir, "berth.db"), filepath.Join(dir, "secret.key"), filepath.Join(dir, "credentials")
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))

	start := func() (string, bool, string, string, *SigV4) {
		t.Helper()
		db, err := sqlite.Open(t.Context(), dbPath, logger)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		kr, err := secret.LoadOrCreateKeyring(keyPath)
		if err != nil {
			t.Fatalf("keyring: %v", err)
		}
		id, created, err := EnsureAdminKey(t.Context(), db, kr, testAccount, testRegion, credPath)
		if err != nil {
			t.Fatalf("EnsureAdminKey: %v", err)
		}
		fileID, fileSecret, err := ReadCredentialsFile(credPath, "default")
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewSigV4(NewKeyStore(db, kr, KeyStoreOptions{}), SigV4Options{Service: testService, Region: testRegion})
		if err != nil {
			t.Fatal(err)
		}
		if fileID != id {
			t.Fatalf("credentials file holds %q, admin key is %q", fileID, id)
		}
		return id, created, fileID, fileSecret, v
	}
	verify := func(v *SigV4, id, sec string) {
		t.Helper()
		creds := testCreds
		creds.AccessKeyID, creds.SecretAccessKey = id, sec
		srv := newAuthServer(t, v)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+testARNPath+"?qualifier=DEFAULT", nil)
		if err != nil {
			t.Fatal(err)
		}
		signRequest(t, req, creds, sha256Hex(nil), testService, testRegion, time.Now())
		if status, res := doJSON(t, req); !res.OK || res.Account != testAccount {
			t.Fatalf("status %d: %+v", status, res)
		}
	}

	id1, created1, _, secret1, v1 := start()
	if !created1 {
		t.Fatal("first start did not create the admin key")
	}
	verify(v1, id1, secret1)

	if err := os.Remove(credPath); err != nil {
		t.Fatal(err)
	}
	id2, created2, _, secret2, v2 := start()
	if created2 || id2 != id1 || secret2 != secret1 {
		t.Fatalf("later start: id %q created %v, want the first key %q restored", id2, created2, id1)
	}
	verify(v2, id2, secret2)
}
