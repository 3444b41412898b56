package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testContext(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		ok            bool
	}{
		{"profile", "[default]\naws_access_key_id = AKID\naws_secret_access_key = s3cr=t\n", true},
		{"no secret", "[default]\naws_access_key_id = AKID\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := ReadCredentials(path)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (c.AccessKeyID != "AKID" || c.SecretAccessKey != "s3cr=t") {
				t.Errorf("credentials = %+v", c)
			}
		})
	}
	if _, err := ReadCredentials(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file read fine")
	}
}

func TestNewSessionID_Shape(t *testing.T) {
	a, b := NewSessionID(), NewSessionID()
	if a == b || len(a) < 33 || len(a) > 100 {
		t.Errorf("session ids %q, %q: want distinct, 33–100 characters", a, b)
	}
}
