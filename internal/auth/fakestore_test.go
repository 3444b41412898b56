package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// fakeStore is an in-memory FAKE of store.Store holding only access keys, for tests while the
// real SQLite store is being written. It honours the parts of the store contract KeyStore and
// EnsureAdminKey depend on: ErrNotFound / ErrConflict kinds, and Update applying nothing when
// fn fails (it works on a copy and commits the copy on success). Other aggregates are nil.
type fakeStore struct {
	mu      sync.Mutex
	keys    map[string]store.AccessKey
	order   []string // creation order, for ListAccessKeys
	views   int      // number of View calls, to observe caching
	failErr error    // when set, Update and View fail with it
}

var _ store.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{keys: make(map[string]store.AccessKey)} }

func (s *fakeStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return s.failErr
	}
	tx := &fakeTx{keys: make(map[string]store.AccessKey, len(s.keys)), order: slices.Clone(s.order)}
	for k, v := range s.keys {
		tx.keys[k] = v
	}
	if err := fn(tx); err != nil {
		return err
	}
	s.keys, s.order = tx.keys, tx.order
	return ctx.Err()
}

func (s *fakeStore) View(_ context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.views++
	if s.failErr != nil {
		return s.failErr
	}
	return fn(&fakeTx{keys: s.keys, order: s.order, readOnly: true})
}

func (s *fakeStore) Close() error { return nil }

func (s *fakeStore) viewCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.views
}

// put overwrites a row directly, as another replica would.
func (s *fakeStore) put(k store.AccessKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; !ok {
		s.order = append(s.order, k.ID)
	}
	s.keys[k.ID] = k
}

func (s *fakeStore) get(id string) (store.AccessKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	return k, ok
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

type fakeTx struct {
	keys     map[string]store.AccessKey
	order    []string
	readOnly bool
}

func (t *fakeTx) Runtimes() store.Runtimes       { return nil }
func (t *fakeTx) Idempotency() store.Idempotency { return nil }
func (t *fakeTx) AccessKeys() store.AccessKeys   { return t }
func (t *fakeTx) Objects() store.Objects         { return nil }
func (t *fakeTx) Registry() store.Registry       { return nil }
func (t *fakeTx) Usage() store.Usage             { return nil }
func (t *fakeTx) Sessions() store.Sessions       { return nil }

var errReadOnly = errors.New("write in a read-only transaction")

func (t *fakeTx) CreateAccessKey(_ context.Context, k store.AccessKey) error {
	if t.readOnly {
		return errReadOnly
	}
	if _, ok := t.keys[k.ID]; ok {
		return fmt.Errorf("create access key %s: %w", k.ID, errdefs.ErrConflict)
	}
	t.keys[k.ID] = k
	t.order = append(t.order, k.ID)
	return nil
}

func (t *fakeTx) GetAccessKey(_ context.Context, id string) (store.AccessKey, error) {
	k, ok := t.keys[id]
	if !ok {
		return store.AccessKey{}, fmt.Errorf("get access key %s: %w", id, errdefs.ErrNotFound)
	}
	return k, nil
}

func (t *fakeTx) ListAccessKeys(context.Context) ([]store.AccessKey, error) {
	out := make([]store.AccessKey, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.keys[id])
	}
	return out, nil
}

func (t *fakeTx) UpdateAccessKey(_ context.Context, k store.AccessKey) error {
	if t.readOnly {
		return errReadOnly
	}
	old, ok := t.keys[k.ID]
	if !ok {
		return fmt.Errorf("update access key %s: %w", k.ID, errdefs.ErrNotFound)
	}
	old.Description, old.Disabled = k.Description, k.Disabled
	t.keys[k.ID] = old
	return nil
}
