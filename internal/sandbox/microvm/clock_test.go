//go:build linux

package microvm_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm"
	"berth.dev/berth/internal/sandbox/sandboxtest"
)

// TestDriver_GuestClock checks the guest's clocks in a sandbox started in the template and
// in one restored from an agent snapshot: the kernel keeps time with the TSC (under TCG it
// would otherwise count timer ticks, which a busy host loses), and the agent's wall clock
// agrees with the host's, also a few seconds later.
func TestDriver_GuestClock(t *testing.T) {
	e := setup(t)
	d := newDriverWith(t, e, microvm.Config{StateDir: t.TempDir(), CacheDir: t.TempDir(), SnapshotAfter: 2})
	spec := e.spec(t, "")
	for i, how := range []string{"started in the template", "restored from the agent snapshot"} {
		spec.ID = "clock-" + string(rune('a'+i))
		sb, err := d.Start(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sb.Stop(context.Background()) })
		waitPing(t, sb)
		var cs struct {
			Content string `json:"content"`
		}
		invoke(t, sb, map[string]any{"op": "probe", "probe": "read", "path": "/sys/devices/system/clocksource/clocksource0/current_clocksource"}, &cs)
		if got := strings.TrimSpace(cs.Content); got != "tsc" && got != "kvm-clock" {
			t.Errorf("sandbox %s: the guest's clocksource is %q, want tsc (or kvm-clock under KVM)", how, got)
		}
		for round := range 2 {
			if round > 0 {
				time.Sleep(3 * time.Second) // a clock that loses ticks falls behind meanwhile
			}
			before, guest, after := guestTime(t, sb)
			const slack = time.Second
			if guest.Before(before.Add(-slack)) || guest.After(after.Add(slack)) {
				t.Errorf("sandbox %s: the agent's clock read %v between the host's %v and %v (more than %v off)", how, guest, before, after, slack)
			}
		}
	}
}

// guestTime asks the test agent for one server-sent event, whose payload carries the
// agent's wall clock, and returns the host's time before and after with it.
func guestTime(t *testing.T, sb sandbox.Sandbox) (before, guest, after time.Time) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return sb.DialContext(ctx, "tcp", sandboxtest.AgentPort)
		},
		DisableKeepAlives: true,
	}}
	before = time.Now()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://sandbox/invocations", strings.NewReader(`{"op":"sse","n":1,"interval_ms":1}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: ")); ok {
			var ev struct {
				Sent int64 `json:"sent_unix_nano"`
			}
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			guest = time.Unix(0, ev.Sent)
		}
	}
	after = time.Now()
	if guest.IsZero() {
		t.Fatal("the agent sent no event")
	}
	return before, guest, after
}
