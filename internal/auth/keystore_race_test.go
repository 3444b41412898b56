package auth

import (
	"context"
	"errors"
	"testing"

	"berth.dev/berth/internal/store"
)

// pausingStore is the in-memory fake store whose View pauses after reading, so a test can
// slip a change in between a lookup's read and its caching.
type pausingStore struct {
	*fakeStore
	read, resume chan struct{}
}

func (p *pausingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	err := p.fakeStore.View(ctx, fn)
	if p.read != nil {
		close(p.read)
		<-p.resume
		p.read = nil
	}
	return err
}

// TestKeyStore_DisableDuringLookup: a key disabled while a lookup is reading it is never
// cached as enabled; the next lookup refuses it.
func TestKeyStore_DisableDuringLookup(t *testing.T) {
	base, kr := newFakeStore(), testKeyring(t)
	ks := NewKeyStore(base, kr, KeyStoreOptions{})
	id, _, err := ks.CreateAccessKey(t.Context(), testAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	ps := &pausingStore{fakeStore: base, read: make(chan struct{}), resume: make(chan struct{})}
	ks.st = ps
	done := make(chan error, 1)
	go func() { _, _, err := ks.LookupAccessKey(context.Background(), id); done <- err }()
	<-ps.read
	if err := ks.SetDisabled(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	close(ps.resume)
	if err := <-done; err != nil {
		t.Fatalf("the lookup that raced the disable: %v", err)
	}
	if _, _, err := ks.LookupAccessKey(t.Context(), id); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("a disabled key still authenticates (cached as enabled): err = %v", err)
	}
}
