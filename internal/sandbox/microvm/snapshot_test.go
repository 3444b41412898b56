//go:build linux

package microvm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm"
	"berth.dev/berth/internal/sandbox/sandboxtest"
)

// TestDriver_AgentSnapshot starts three sandboxes of one spec with SnapshotAfter 2: the
// first starts its agent in the template, the second builds the agent snapshot, the third
// is a second clone of it. Every one answers as an agent of its own (its own counter, its
// own kernel randomness, its own relay token), and the agent's start-up output reaches
// every clone.
func TestDriver_AgentSnapshot(t *testing.T) {
	e := setup(t)
	d := newDriverWith(t, e, microvm.Config{StateDir: t.TempDir(), CacheDir: t.TempDir(), SnapshotAfter: 2})
	spec := e.spec(t, "")
	type box struct {
		sb     sandbox.Sandbox
		stdout *sandboxtest.SyncBuffer
	}
	var boxes []box
	for i := range 3 {
		spec.ID = fmt.Sprintf("snap-%d", i)
		out := &sandboxtest.SyncBuffer{}
		spec.Stdout = out
		sb, err := d.Start(t.Context(), spec)
		if err != nil {
			t.Fatalf("Start %d: %v", i, err)
		}
		t.Cleanup(func() { _ = sb.Stop(context.Background()) })
		waitPing(t, sb)
		boxes = append(boxes, box{sb, out})
	}
	uuids := map[string]int{}
	for i, b := range boxes {
		var incr struct {
			Count int `json:"count"`
		}
		invoke(t, b.sb, map[string]any{"op": "incr"}, &incr)
		if incr.Count != 1 {
			t.Errorf("sandbox %d: first incr = %d, want 1 (an agent of its own)", i, incr.Count)
		}
		var rnd struct {
			Content string `json:"content"`
		}
		invoke(t, b.sb, map[string]any{"op": "probe", "probe": "read", "path": "/proc/sys/kernel/random/uuid"}, &rnd)
		if j, ok := uuids[rnd.Content]; ok || rnd.Content == "" {
			t.Errorf("sandboxes %d and %d read the same kernel random uuid %q: the clone's CRNG was not reseeded", j, i, rnd.Content)
		}
		uuids[rnd.Content] = i
		if want := "testagent listening on 0.0.0.0:8080"; !strings.Contains(b.stdout.String(), want) {
			t.Errorf("sandbox %d: stdout = %q, want it to contain %q", i, b.stdout, want)
		}
		var got bytes.Buffer
		code, err := b.sb.(sandbox.Execer).Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/bin/sh", "-c", "echo $((6*7))"}, Stdout: &got})
		if err != nil || code != 0 || got.String() != "42\n" {
			t.Errorf("sandbox %d: Exec = %d, %v, %q; want 0, nil, 42", i, code, err, got.String())
		}
	}
}

// invoke posts op to the agent's /invocations and decodes the answer into out.
func invoke(t *testing.T, sb sandbox.Sandbox, op map[string]any, out any) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return sb.DialContext(ctx, "tcp", sandboxtest.AgentPort)
		},
		DisableKeepAlives: true,
	}}
	b, _ := json.Marshal(op)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://sandbox/invocations", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("invoke %v: %v", op, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %v: status %d", op, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("invoke %v: %v", op, err)
	}
}
