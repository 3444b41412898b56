package auth

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/secret"
)

func testKeyring(t *testing.T) *secret.Keyring {
	t.Helper()
	kr, err := secret.NewKeyring("test", bytes.Repeat([]byte{42}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestKeyStore_LookupAccessKey(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	ks := NewKeyStore(st, kr, KeyStoreOptions{})
	id, sec, err := ks.CreateAccessKey(t.Context(), testAccount, "ci key")
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	row, ok := st.get(id)
	if !ok {
		t.Fatal("the key was not stored")
	}
	if bytes.Contains(row.SecretEncrypted, []byte(sec)) {
		t.Fatal("the stored row contains the plaintext secret")
	}
	if row.Account != testAccount || row.Description != "ci key" || row.Disabled || row.CreatedAt.IsZero() {
		t.Errorf("stored row = %+v", row)
	}

	gotSecret, gotAccount, err := ks.LookupAccessKey(t.Context(), id)
	if err != nil || gotSecret != sec || gotAccount != testAccount {
		t.Fatalf("LookupAccessKey = (%q, %q, %v), want (%q, %q, nil)", gotSecret, gotAccount, err, sec, testAccount)
	}

	t.Run("unknown id is ErrNotFound", func(t *testing.T) {
		if _, _, err := ks.LookupAccessKey(t.Context(), "AKIANOPE"); !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("secret sealed for another id does not open", func(t *testing.T) {
		moved := row
		moved.ID = "AKIAMOVEDROW0000000A"
		st.put(moved)
		_, _, err := ks.LookupAccessKey(t.Context(), moved.ID)
		if !errors.Is(err, secret.ErrCorrupt) {
			t.Fatalf("err = %v, want secret.ErrCorrupt (the AAD is the key id)", err)
		}
	})
	t.Run("store failure passes through", func(t *testing.T) {
		failing := newFakeStore()
		failing.failErr = errdefs.ErrUnavailable
		_, _, err := NewKeyStore(failing, kr, KeyStoreOptions{}).LookupAccessKey(t.Context(), id)
		if !errors.Is(err, errdefs.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
}

func TestKeyStore_LookupAccessKey_CacheAndDisable(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	clock := &fakeClock{t: testNow}
	ks := NewKeyStore(st, kr, KeyStoreOptions{CacheTTL: time.Minute, Now: clock.Now})
	id, _, err := ks.CreateAccessKey(t.Context(), testAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func() error {
		_, _, err := ks.LookupAccessKey(t.Context(), id)
		return err
	}

	if err := lookup(); err != nil {
		t.Fatal(err)
	}
	views := st.viewCount()
	if err := lookup(); err != nil {
		t.Fatal(err)
	}
	if st.viewCount() != views {
		t.Errorf("a second lookup within the TTL read the store")
	}

	// Another replica disables the key: it applies once the cache entry expires.
	row, _ := st.get(id)
	row.Disabled = true
	st.put(row)
	if err := lookup(); err != nil {
		t.Fatalf("within the TTL the cached key still works, got %v", err)
	}
	clock.Advance(time.Minute)
	if err := lookup(); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Fatalf("after the TTL: err = %v, want ErrPermissionDenied", err)
	}

	// Through this KeyStore, enabling and disabling apply at once.
	if err := ks.SetDisabled(t.Context(), id, false); err != nil {
		t.Fatal(err)
	}
	if err := lookup(); err != nil {
		t.Fatalf("re-enabled key: %v", err)
	}
	if err := ks.SetDisabled(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	if err := lookup(); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Fatalf("just-disabled key: err = %v, want ErrPermissionDenied", err)
	}
	if err := ks.SetDisabled(t.Context(), "AKIANOPE", true); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("SetDisabled(unknown) = %v, want ErrNotFound", err)
	}
}

func TestKeyStore_CheckBasic(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	ks := NewKeyStore(st, kr, KeyStoreOptions{})
	id, sec, err := ks.CreateAccessKey(t.Context(), testAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	disabledID, disabledSecret, err := ks.CreateAccessKey(t.Context(), testAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.SetDisabled(t.Context(), disabledID, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, secret string
		want             Code
	}{
		{"right secret", id, sec, ""},
		{"wrong secret", id, sec[:39] + "!", CodeInvalidSignature},
		{"prefix of the secret", id, sec[:20], CodeInvalidSignature},
		{"empty secret", id, "", CodeInvalidSignature},
		{"unknown id", "AKIANOPE", sec, CodeUnrecognizedClient},
		{"disabled key", disabledID, disabledSecret, CodeUnrecognizedClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ks.CheckBasic(t.Context(), tt.id, tt.secret)
			if tt.want == "" {
				if err != nil || p != (Principal{AccessKeyID: id, Account: testAccount}) {
					t.Fatalf("CheckBasic = (%+v, %v)", p, err)
				}
				return
			}
			ae := wantCode(t, err, tt.want)
			if ae.HTTPStatus() != http.StatusForbidden {
				t.Errorf("status %d", ae.HTTPStatus())
			}
		})
	}
}

func TestKeyStore_WithSigV4(t *testing.T) {
	st, kr := newFakeStore(), testKeyring(t)
	ks := NewKeyStore(st, kr, KeyStoreOptions{})
	id, sec, err := ks.CreateAccessKey(t.Context(), "123456789012", "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewSigV4(ks, SigV4Options{Service: testService, Region: testRegion, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	creds := testCreds
	creds.AccessKeyID, creds.SecretAccessKey = id, sec
	req := newSignedRequest(t, http.MethodPost, testARNPath, []byte("{}"), nil, creds, testService, testRegion, testNow)
	_, p, err := v.Authenticate(onWire(t, req))
	if err != nil {
		t.Fatalf("authenticate with a stored key: %v", err)
	}
	if p != (Principal{AccessKeyID: id, Account: "123456789012"}) {
		t.Errorf("principal = %+v", p)
	}
	if err := ks.SetDisabled(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	req = newSignedRequest(t, http.MethodPost, testARNPath, []byte("{}"), nil, creds, testService, testRegion, testNow)
	_, _, err = v.Authenticate(onWire(t, req))
	_ = wantCode(t, err, CodeUnrecognizedClient)
}
