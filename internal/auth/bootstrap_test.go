package auth

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"berth.dev/berth/internal/errdefs"
)

func TestGenerateAccessKey(t *testing.T) {
	idPattern := regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	secretPattern := regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	seen := make(map[string]bool)
	for range 200 {
		id, sec := GenerateAccessKey()
		if !idPattern.MatchString(id) {
			t.Fatalf("id %q does not match %s", id, idPattern)
		}
		if !secretPattern.MatchString(sec) {
			t.Fatalf("secret of %d chars does not match %s", len(sec), secretPattern)
		}
		if seen[id] || seen[sec] {
			t.Fatalf("repeated id or secret after %d keys", len(seen)/2)
		}
		seen[id], seen[sec] = true, true
	}
}

func TestEnsureAdminKey_FirstAndLaterStarts(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	path := filepath.Join(t.TempDir(), "data", "credentials")

	id, created, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, path)
	if err != nil || !created {
		t.Fatalf("first start: (%q, %v, %v)", id, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode = %04o, want 0600", fi.Mode().Perm())
	}
	fileID, fileSecret, err := ReadCredentialsFile(path, "default")
	if err != nil {
		t.Fatal(err)
	}
	if fileID != id {
		t.Errorf("file holds key %q, created %q", fileID, id)
	}
	ks := NewKeyStore(st, kr, KeyStoreOptions{})
	if _, err := ks.CheckBasic(t.Context(), fileID, fileSecret); err != nil {
		t.Fatalf("the file's secret is not the stored one: %v", err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(content), "[default]\naws_access_key_id = "+id+"\naws_secret_access_key = "+fileSecret+"\n") ||
		!strings.Contains(string(content), "AWS_REGION="+testRegion) {
		t.Errorf("credentials file content:\n%s", content)
	}

	t.Run("second start changes nothing", func(t *testing.T) {
		id2, created2, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, path)
		if err != nil || created2 || id2 != id {
			t.Fatalf("second start: (%q, %v, %v), want (%q, false, nil)", id2, created2, err, id)
		}
		if st.count() != 1 {
			t.Errorf("store holds %d keys, want 1", st.count())
		}
		again, err := os.ReadFile(path)
		if err != nil || string(again) != string(content) {
			t.Errorf("file rewritten or unreadable: %v", err)
		}
	})
	t.Run("missing file is rewritten from the stored secret", func(t *testing.T) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		id3, created3, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, path)
		if err != nil || created3 || id3 != id {
			t.Fatalf("restart without file: (%q, %v, %v)", id3, created3, err)
		}
		gotID, gotSecret, err := ReadCredentialsFile(path, "default")
		if err != nil || gotID != id || gotSecret != fileSecret {
			t.Fatalf("rewritten file = (%q, %q, %v), want the original key", gotID, gotSecret, err)
		}
	})
	t.Run("a disabled admin key is not written out", func(t *testing.T) {
		if err := ks.SetDisabled(t.Context(), id, true); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, created, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, path); err != nil || created {
			t.Fatalf("(created=%v, %v)", created, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("credentials file written for a disabled key: %v", err)
		}
	})
	t.Run("another account gets its own key", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "credentials")
		id4, created4, err := EnsureAdminKey(t.Context(), st, kr, "111111111111", testRegion, other)
		if err != nil || !created4 || id4 == id {
			t.Fatalf("(%q, %v, %v)", id4, created4, err)
		}
	})
}

func TestEnsureAdminKey_RowBeforeFile(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(blocker, "credentials") // its parent is a file: writing fails

	id, created, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, bad)
	if err == nil {
		t.Fatal("writing under a file succeeded")
	}
	if !created {
		t.Errorf("created = false, but the key was made")
	}
	if _, ok := st.get(id); !ok {
		t.Fatal("the key row was not committed before the file write failed")
	}

	good := filepath.Join(dir, "credentials")
	id2, created2, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, good)
	if err != nil || created2 || id2 != id {
		t.Fatalf("retry: (%q, %v, %v), want the same key, not created", id2, created2, err)
	}
	if gotID, _, err := ReadCredentialsFile(good, "default"); err != nil || gotID != id {
		t.Fatalf("retry wrote (%q, %v)", gotID, err)
	}
}

func TestEnsureAdminKey_StoreFailureWritesNoFile(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	st.failErr = errdefs.ErrUnavailable
	path := filepath.Join(t.TempDir(), "credentials")
	if _, _, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, path); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials file exists although the key was not stored: %v", err)
	}
}

// TestEnsureAdminKey_FileWorksWithAWSSDK points the real SDK's default configuration chain at
// the file through AWS_SHARED_CREDENTIALS_FILE, exactly as users will, and calls the server.
func TestEnsureAdminKey_FileWorksWithAWSSDK(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if _, _, err := EnsureAdminKey(t.Context(), st, kr, testAccount, testRegion, path); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", path)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_REGION", testRegion)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	v, err := NewSigV4(NewKeyStore(st, kr, KeyStoreOptions{}), SigV4Options{Service: testService, Region: testRegion})
	if err != nil {
		t.Fatal(err)
	}
	srv := newAgentCoreServer(t, v)
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	client := bedrockagentcorecontrol.NewFromConfig(cfg, func(o *bedrockagentcorecontrol.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
	if _, err := client.ListAgentRuntimes(t.Context(), &bedrockagentcorecontrol.ListAgentRuntimesInput{}); err != nil {
		t.Fatalf("ListAgentRuntimes with the credentials file: %v", err)
	}
}

func TestWriteCredentialsFile_ReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteCredentialsFile(path, "AKIAEXAMPLE", "s3cr3t", testRegion); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600 even when replacing a 0644 file", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (temporary file left behind?)", len(entries))
	}
	if err := WriteCredentialsFile(path, "AKIA\nEVIL", "x", testRegion); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a key id with a newline: err = %v, want ErrInvalidArgument", err)
	}
}

func TestReadCredentialsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	content := "; comment\n[other]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=other\n\n" +
		"[default]\n  aws_access_key_id   =   AKIADEFAULT  \n# note\naws_secret_access_key=def/+secret\nregion = x\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		profile, wantID, wantSecret string
		wantErr                     error
	}{
		{"default", "AKIADEFAULT", "def/+secret", nil},
		{"other", "AKIAOTHER", "other", nil},
		{"missing", "", "", errdefs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			id, sec, err := ReadCredentialsFile(path, tt.profile)
			if !errors.Is(err, tt.wantErr) || id != tt.wantID || sec != tt.wantSecret {
				t.Fatalf("= (%q, %q, %v), want (%q, %q, %v)", id, sec, err, tt.wantID, tt.wantSecret, tt.wantErr)
			}
		})
	}
	if _, _, err := ReadCredentialsFile(filepath.Join(t.TempDir(), "nope"), "default"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing file: err = %v, want ErrNotFound", err)
	}
}
