package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/secret"
	"berth.dev/berth/internal/store"
)

// KeyStoreOptions configures a KeyStore.
type KeyStoreOptions struct {
	// CacheTTL is how long a looked-up secret is reused without asking the store; default 30 s.
	// It bounds how long another replica's change (a disabled key) takes to apply here; a
	// change made through this KeyStore applies at once. Negative disables the cache.
	CacheTTL time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// KeyStore looks up access keys in the store and opens their sealed secrets. Secrets are
// sealed with the access key id as associated data, so a sealed secret copied onto another
// key's row does not open. Unknown keys are not cached, so a new key works at once. It is
// safe for concurrent use.
type KeyStore struct {
	st   store.Store
	kr   *secret.Keyring
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	hits map[string]cachedKey
	// epoch counts invalidations; a lookup caches its read only if no invalidation happened
	// while it read, so a key disabled mid-lookup is never cached as enabled.
	epoch uint64
}

type cachedKey struct {
	secret, account string
	expires         time.Time
}

var _ KeyLookup = (*KeyStore)(nil)

// NewKeyStore returns a KeyStore over st whose secrets are sealed by kr.
func NewKeyStore(st store.Store, kr *secret.Keyring, opts KeyStoreOptions) *KeyStore {
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &KeyStore{st: st, kr: kr, ttl: opts.CacheTTL, now: opts.Now, hits: make(map[string]cachedKey)}
}

// LookupAccessKey returns the secret and account of an enabled key. See KeyLookup.
func (k *KeyStore) LookupAccessKey(ctx context.Context, id string) (secretKey, account string, err error) {
	if c, ok := k.cached(id); ok {
		return c.secret, c.account, nil
	}
	k.mu.Lock()
	epoch := k.epoch
	k.mu.Unlock()
	var row store.AccessKey
	err = k.st.View(ctx, func(tx store.Tx) error {
		var gerr error
		row, gerr = tx.AccessKeys().GetAccessKey(ctx, id)
		return gerr
	})
	if err != nil {
		return "", "", fmt.Errorf("look up access key %s: %w", id, err)
	}
	if row.Disabled {
		return "", "", fmt.Errorf("look up access key %s: %w: the key is disabled", id, errdefs.ErrPermissionDenied)
	}
	plain, err := k.kr.Open(row.SecretEncrypted, []byte(row.ID))
	if err != nil {
		return "", "", fmt.Errorf("look up access key %s: %w", id, err)
	}
	if k.ttl > 0 {
		k.mu.Lock()
		if k.epoch == epoch {
			k.hits[id] = cachedKey{secret: string(plain), account: row.Account, expires: k.now().Add(k.ttl)}
		}
		k.mu.Unlock()
	}
	return string(plain), row.Account, nil
}

func (k *KeyStore) cached(id string) (cachedKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.hits[id]
	if !ok {
		return cachedKey{}, false
	}
	if !k.now().Before(c.expires) {
		delete(k.hits, id)
		return cachedKey{}, false
	}
	return c, true
}

// Invalidate drops id from the cache, so the next lookup reads the store.
func (k *KeyStore) Invalidate(id string) {
	k.mu.Lock()
	delete(k.hits, id)
	k.epoch++
	k.mu.Unlock()
}

// CheckBasic authenticates HTTP basic credentials (user = access key id, password = secret
// access key), as the built-in registry accepts them. The secret is compared in constant
// time. Failures are *Error values: UnrecognizedClient for an unknown or disabled key,
// InvalidSignature for a wrong secret.
func (k *KeyStore) CheckBasic(ctx context.Context, id, secretKey string) (Principal, error) {
	stored, account, err := k.LookupAccessKey(ctx, id)
	switch {
	case errors.Is(err, errdefs.ErrNotFound), errors.Is(err, errdefs.ErrPermissionDenied):
		return Principal{}, newError(CodeUnrecognizedClient, "The access key id is not known to this server or is disabled.")
	case err != nil:
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(secretKey)) != 1 {
		return Principal{}, newError(CodeInvalidSignature, "The secret access key does not match the access key id.")
	}
	return Principal{AccessKeyID: id, Account: account}, nil
}

// CreateAccessKey generates a new key for account, stores its sealed secret, and returns the
// id and the plaintext secret (shown to the user once; it cannot be read back otherwise).
func (k *KeyStore) CreateAccessKey(ctx context.Context, account, description string) (id, secretKey string, err error) {
	for range 3 {
		id, secretKey = GenerateAccessKey()
		row, serr := sealedKey(k.kr, id, secretKey, account, description, k.now())
		if serr != nil {
			return "", "", serr
		}
		err = k.st.Update(ctx, func(tx store.Tx) error { return tx.AccessKeys().CreateAccessKey(ctx, row) })
		if !errors.Is(err, errdefs.ErrConflict) { // a colliding id is astronomically unlikely; retry
			break
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("create access key: %w", err)
	}
	return id, secretKey, nil
}

// SetDisabled disables or re-enables a key. It takes effect at once on this KeyStore.
func (k *KeyStore) SetDisabled(ctx context.Context, id string, disabled bool) error {
	err := k.st.Update(ctx, func(tx store.Tx) error {
		row, err := tx.AccessKeys().GetAccessKey(ctx, id)
		if err != nil {
			return err
		}
		row.Disabled = disabled
		return tx.AccessKeys().UpdateAccessKey(ctx, row)
	})
	k.Invalidate(id)
	if err != nil {
		return fmt.Errorf("set access key %s disabled=%t: %w", id, disabled, err)
	}
	return nil
}

// sealedKey builds the store row for a new key, sealing the secret with the id as AAD.
func sealedKey(kr *secret.Keyring, id, secretKey, account, description string, now time.Time) (store.AccessKey, error) {
	sealed, err := kr.Seal([]byte(secretKey), []byte(id))
	if err != nil {
		return store.AccessKey{}, fmt.Errorf("seal access key %s: %w", id, err)
	}
	return store.AccessKey{
		ID:              id,
		SecretEncrypted: sealed,
		Account:         account,
		Description:     description,
		CreatedAt:       now.UTC(),
	}, nil
}
