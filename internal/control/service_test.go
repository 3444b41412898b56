package control

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store/sqlite"
)

// gatePreparer is a Preparer at the seam to internal/image (a fake: the real one needs
// artifacts in an object store); it blocks until released and counts calls.
type gatePreparer struct {
	mu      sync.Mutex
	calls   int
	release chan struct{}
}

func (g *gatePreparer) Prepare(ctx context.Context, _ catalog.Artifact) (catalog.PreparedArtifact, error) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	select {
	case <-g.release:
		return catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Digest: "sha256:00"}, nil
	case <-ctx.Done():
		return catalog.PreparedArtifact{}, ctx.Err()
	}
}

func testConfig() catalog.RuntimeConfig {
	return catalog.RuntimeConfig{
		AgentRuntimeArtifact: &catalog.Artifact{ContainerConfiguration: &catalog.ContainerConfiguration{ContainerURI: "example.com/a:b"}},
		RoleArn:              "arn:aws:iam::000000000000:role/R",
		NetworkConfiguration: &catalog.NetworkConfiguration{NetworkMode: "PUBLIC"},
	}
}

func newService(t *testing.T, path string, prep Preparer, now func() time.Time) *Service {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(context.Background(), path, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc := NewService(db, catalog.Account{Partition: "aws", Region: "us-east-1", ID: "000000000000"}, prep, logger, ServiceOptions{Now: now})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func waitStatus(t *testing.T, svc *Service, id string, want catalog.Status) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := svc.GetRuntime(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Version.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime %s is %s, want %s", id, res.Version.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestService_ResumesPendingAfterRestart: a version left CREATING when the service stops is
// prepared by the next service over the same store, and its DEFAULT endpoint goes live.
func TestService_ResumesPendingAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	stuck := &gatePreparer{release: make(chan struct{})}
	first := newService(t, path, stuck, time.Now)
	res, err := first.CreateRuntime(context.Background(), CreateRuntimeInput{Name: "resume", Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	first.Close() // preparation never finished

	ready := &gatePreparer{release: make(chan struct{})}
	close(ready.release)
	second := newService(t, path, ready, time.Now)
	waitStatus(t, second, res.Runtime.ID, catalog.StatusReady)
	ep, err := second.GetEndpoint(context.Background(), res.Runtime.ID, catalog.DefaultEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Endpoint.LiveVersion != 1 || ep.Endpoint.Status != catalog.StatusReady {
		t.Errorf("DEFAULT = live %d %s, want 1 READY", ep.Endpoint.LiveVersion, ep.Endpoint.Status)
	}
}

// TestService_ClientTokensExpire: within IdempotencyTTL a repeat replays the first answer;
// after it, the token is forgotten and the repeat is a new request (here a duplicate name).
func TestService_ClientTokensExpire(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Now()
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	prep := &gatePreparer{release: make(chan struct{})}
	close(prep.release)
	svc := newService(t, filepath.Join(t.TempDir(), "berth.db"), prep, clock)
	in := CreateRuntimeInput{Name: "tokens", Config: testConfig(), ClientToken: "token-0123456789-0123456789-0123456789"}
	first, err := svc.CreateRuntime(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.CreateRuntime(context.Background(), in)
	if err != nil || again.Runtime.ID != first.Runtime.ID {
		t.Fatalf("replay = %v, %v; want the first answer", again.Runtime.ID, err)
	}
	mu.Lock()
	now = now.Add(IdempotencyTTL + time.Minute)
	mu.Unlock()
	if err := svc.expireIdempotency(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRuntime(context.Background(), in); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("after expiry: %v, want a ConflictException for the duplicate name", err)
	}
}

// TestService_UpdateWhilePreparingConflicts: an update while the latest version is still
// being prepared is a ConflictException; once it is READY the update goes through.
func TestService_UpdateWhilePreparingConflicts(t *testing.T) {
	gate := &gatePreparer{release: make(chan struct{})}
	svc := newService(t, filepath.Join(t.TempDir(), "berth.db"), gate, time.Now)
	res, err := svc.CreateRuntime(context.Background(), CreateRuntimeInput{Name: "busy", Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateRuntime(context.Background(), res.Runtime.ID, testConfig(), ""); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("update while CREATING: %v, want ErrConflict", err)
	}
	close(gate.release)
	waitStatus(t, svc, res.Runtime.ID, catalog.StatusReady)
	up, err := svc.UpdateRuntime(context.Background(), res.Runtime.ID, testConfig(), "")
	if err != nil || up.Version.Number != 2 {
		t.Fatalf("update when READY: version %d, %v", up.Version.Number, err)
	}
}
