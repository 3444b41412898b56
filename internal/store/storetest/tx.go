package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func testTx(t *testing.T, open Opener) {
	t.Run("RollbackOnError", func(t *testing.T) {
		s := fresh(t, open)
		kept := newRuntime("kept", 0)
		createRuntimes(t, s, kept)
		rt := newRuntime("rolled", 1)
		err := s.Update(t.Context(), func(tx store.Tx) error {
			ctx := t.Context()
			if err := tx.Runtimes().CreateRuntime(ctx, rt); err != nil {
				return err
			}
			if err := tx.Runtimes().CreateVersion(ctx, newVersion(rt.ID, 1, 1)); err != nil {
				return err
			}
			if err := tx.Runtimes().DeleteRuntime(ctx, kept.ID); err != nil {
				return err
			}
			if err := tx.Objects().CreateBucket(ctx, store.Bucket{Name: "b", CreatedAt: t0}); err != nil {
				return err
			}
			// Inside the transaction its own writes are visible.
			if _, err := tx.Runtimes().GetRuntime(ctx, rt.ID); err != nil {
				return fmt.Errorf("own write not visible: %w", err)
			}
			return errStop
		})
		wantKind(t, err, errStop)
		view(t, s, func(tx store.Tx) error {
			ctx := t.Context()
			_, err := tx.Runtimes().GetRuntime(ctx, rt.ID)
			wantKind(t, err, errdefs.ErrNotFound)
			_, err = tx.Runtimes().GetVersion(ctx, rt.ID, 1)
			wantKind(t, err, errdefs.ErrNotFound)
			_, err = tx.Objects().GetBucket(ctx, "b")
			wantKind(t, err, errdefs.ErrNotFound)
			_, err = tx.Runtimes().GetRuntime(ctx, kept.ID)
			return err
		})
	})

	t.Run("ViewSeesCommittedOnly", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("pending", 0)
		written, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.Update(t.Context(), func(tx store.Tx) error {
				if err := tx.Runtimes().CreateRuntime(t.Context(), rt); err != nil {
					return err
				}
				close(written)
				<-release
				return nil
			})
		}()
		select {
		case <-written:
		case err := <-done:
			t.Fatalf("update ended early: %v", err)
		}
		_, err := getRuntime(t, s, rt.ID)
		close(release)
		wantKind(t, err, errdefs.ErrNotFound)
		if err := <-done; err != nil {
			t.Fatalf("update: %v", err)
		}
		if _, err := getRuntime(t, s, rt.ID); err != nil {
			t.Fatalf("after commit: %v", err)
		}
	})

	t.Run("ViewSnapshot", func(t *testing.T) {
		s := fresh(t, open)
		first, later := newRuntime("first", 0), newRuntime("later", 1)
		createRuntimes(t, s, first)
		view(t, s, func(tx store.Tx) error {
			if _, err := tx.Runtimes().GetRuntime(t.Context(), first.ID); err != nil {
				return err
			}
			// Commit from outside the snapshot; the View must not see it.
			createRuntimes(t, s, later)
			_, err := tx.Runtimes().GetRuntime(t.Context(), later.ID)
			wantKind(t, err, errdefs.ErrNotFound)
			return nil
		})
		if _, err := getRuntime(t, s, later.ID); err != nil {
			t.Fatalf("after the view: %v", err)
		}
	})

	t.Run("ViewIsReadOnly", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("ro", 0)
		err := s.View(t.Context(), func(tx store.Tx) error {
			return tx.Runtimes().CreateRuntime(t.Context(), rt)
		})
		if err == nil {
			t.Fatal("CreateRuntime inside View succeeded")
		}
		_, err = getRuntime(t, s, rt.ID)
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("ConcurrentUpdates", func(t *testing.T) {
		s := fresh(t, open)
		const writers = 20
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Go(func() {
				errs[i] = s.Update(t.Context(), func(tx store.Tx) error {
					return tx.Runtimes().CreateRuntime(t.Context(), newRuntime(fmt.Sprintf("w%02d", i), i))
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		var got []catalog.Runtime
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.Runtimes().ListRuntimes(t.Context(), "", 0)
			return err
		})
		if len(got) != writers {
			t.Errorf("ListRuntimes = %d runtimes, want %d", len(got), writers)
		}
	})

	t.Run("TimesUTC", func(t *testing.T) {
		s := fresh(t, open)
		local := time.Date(2026, 7, 1, 23, 59, 59, 123_456_789, time.FixedZone("IST", 5*3600+1800))
		rt := newRuntime("tz", 0)
		rt.CreatedAt, rt.UpdatedAt = local, local
		createRuntimes(t, s, rt)
		got, err := getRuntime(t, s, rt.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, ts := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt} {
			if ts.Location() != time.UTC {
				t.Errorf("%s location = %v, want UTC", name, ts.Location())
			}
			if d := ts.Sub(local).Abs(); d >= time.Millisecond {
				t.Errorf("%s = %v, %v away from %v; want under 1ms", name, ts, d, local)
			}
		}
	})
}
