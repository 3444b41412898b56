package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
	"berth.dev/berth/internal/store/storetest"
)

// testLogger sends the store's logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return db
}

func TestDB_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	})
}

func TestOpen_PersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	rt := catalog.Runtime{ID: "keep-0123456789", Name: "keep", LatestVersion: 3, Tags: map[string]string{"a": "b"}}
	db := openAt(t, path)
	err := db.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.Runtimes().CreateRuntime(t.Context(), rt); err != nil {
			return err
		}
		return tx.Objects().CreateBucket(t.Context(), store.Bucket{Name: "b"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path)
	defer func() { _ = db.Close() }()
	err = db.View(t.Context(), func(tx store.Tx) error {
		got, err := tx.Runtimes().GetRuntime(t.Context(), rt.ID)
		if err != nil {
			return err
		}
		if got.Name != rt.Name || got.LatestVersion != 3 || got.Tags["a"] != "b" {
			t.Errorf("after reopen: %+v", got)
		}
		_, err = tx.Objects().GetBucket(t.Context(), "b")
		return err
	})
	if err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestOpen_MigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}
	for i := range 3 {
		db := openAt(t, path)
		var applied, maxVersion int
		err := db.write.QueryRowContext(t.Context(),
			`SELECT count(*), max(version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &maxVersion)
		if err != nil {
			t.Fatal(err)
		}
		if applied != len(files) || maxVersion != len(files) {
			t.Errorf("open #%d: %d migrations recorded up to version %d, want %d", i+1, applied, maxVersion, len(files))
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpen_Pragmas(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	defer func() { _ = db.Close() }()
	tests := []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "10000"},
		{"write", "query_only", "0"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "busy_timeout", "10000"},
		{"read", "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.pool+"/"+tt.pragma, func(t *testing.T) {
			pool := db.write
			if tt.pool == "read" {
				pool = db.read
			}
			var got string
			if err := pool.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestOpen_BadPath(t *testing.T) {
	tests := []struct{ name, path string }{
		{"Empty", ""},
		{"Memory", ":memory:"},
		{"URI", "file:x.db"},
		{"Query", filepath.Join(t.TempDir(), "x.db?mode=ro")},
		{"MissingDir", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.path, nil)
			if err == nil {
				_ = db.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
		})
	}
}

// TestDB_Update_Serialized checks that read-modify-write inside Update never loses an
// increment: SQLite write transactions are serialized, not merely atomic.
func TestDB_Update_Serialized(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	defer func() { _ = db.Close() }()
	rt := catalog.Runtime{ID: "count-0123456789", Name: "count", LatestVersion: 0}
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.Runtimes().CreateRuntime(t.Context(), rt) }); err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for range writers {
		wg.Go(func() {
			for range rounds {
				errs <- db.Update(t.Context(), func(tx store.Tx) error {
					cur, err := tx.Runtimes().GetRuntime(t.Context(), rt.ID)
					if err != nil {
						return err
					}
					cur.LatestVersion++
					if err := tx.Runtimes().UpdateRuntime(t.Context(), cur); err != nil {
						return err
					}
					return tx.Runtimes().CreateVersion(t.Context(), catalog.Version{
						RuntimeID: rt.ID, Number: cur.LatestVersion, Status: catalog.StatusCreating,
					})
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("update: %v", err)
		}
	}
	err := db.View(t.Context(), func(tx store.Tx) error {
		got, err := tx.Runtimes().GetRuntime(t.Context(), rt.ID)
		if err != nil {
			return err
		}
		if got.LatestVersion != writers*rounds {
			t.Errorf("LatestVersion = %d, want %d", got.LatestVersion, writers*rounds)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDB_Update_PanicRollsBack(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	defer func() { _ = db.Close() }()
	rt := catalog.Runtime{ID: "boom-0123456789", Name: "boom"}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic did not propagate")
			}
		}()
		_ = db.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.Runtimes().CreateRuntime(t.Context(), rt); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	// The single write connection is usable again, and nothing was committed.
	err := db.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.Runtimes().GetRuntime(t.Context(), rt.ID)
		return err
	})
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("after panic: GetRuntime error = %v, want ErrNotFound", err)
	}
}

func TestDB_Update_CanceledContext(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := db.Update(ctx, func(store.Tx) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Fatalf("Update with canceled context = %v (fn called: %v), want context.Canceled", err, called)
	}
}

func TestDB_Close_Twice(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	err := db.View(t.Context(), func(store.Tx) error { return nil })
	if err == nil {
		t.Fatal("View after Close succeeded")
	}
}
