package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"berth.dev/berth/test/testagent"
)

// startAgent runs the real test agent as a bare process for the test.
func startAgent(t *testing.T) *bareAgent {
	t.Helper()
	a, err := startBareAgent(t.Context(), testagent.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return a
}

// TestScenarioOps_DirectAgent runs every measured operation against the real test agent.
func TestScenarioOps_DirectAgent(t *testing.T) {
	a := startAgent(t)
	e := directEndpoint(a.Addr, "bench-test-session-0123456789abcdef0123", 4)
	defer e.close()
	ctx := t.Context()

	t.Run("invoke under load", func(t *testing.T) {
		out, err := Generator{Workers: 4, Requests: 40}.Run(ctx, invokeOp(e))
		if err != nil {
			t.Fatal(err)
		}
		if out.Errors != 0 || len(out.Latencies) != 40 {
			t.Fatalf("%d ok, %d errors (%v)", len(out.Latencies), out.Errors, out.FirstErr)
		}
		for _, c := range out.ClientCosts {
			if c != 0 {
				t.Fatalf("direct requests have a signing cost %v", c)
			}
		}
	})
	t.Run("first event", func(t *testing.T) {
		ttfe, cost, err := firstEvent(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		// The agent sends the second event 20 ms after the first; the first must not wait
		// for it.
		if ttfe <= 0 || cost != 0 {
			t.Errorf("ttfe %v, cost %v", ttfe, cost)
		}
	})
	t.Run("burst", func(t *testing.T) {
		d, err := burst(ctx, e, 500)
		if err != nil {
			t.Fatal(err)
		}
		if d <= 0 {
			t.Errorf("duration %v", d)
		}
	})
	t.Run("echo", func(t *testing.T) {
		for _, size := range []int64{0, 1, 3 << 20} {
			x, err := echo(ctx, e, size, hashOf(size))
			if err != nil {
				t.Fatal(err)
			}
			if x.done < x.headers || x.headers <= 0 {
				t.Errorf("size %d: timeline %+v", size, x)
			}
		}
	})
	t.Run("echo of the wrong hash fails", func(t *testing.T) {
		if _, err := echo(ctx, e, 1000, hashOf(1001)); err == nil {
			t.Error("no error")
		}
	})
}

// TestScenarioOps_DetectBadAgents: the operations reject answers that would make the
// figures lie.
func TestScenarioOps_DetectBadAgents(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		run     func(context.Context, *endpoint) error
		wantErr string
	}{
		{name: "echo with a flipped byte", wantErr: "SHA-256",
			handler: func(w http.ResponseWriter, r *http.Request) {
				raw, _ := io.ReadAll(r.Body)
				raw[len(raw)/2] ^= 1
				_, _ = w.Write(raw)
			},
			run: func(ctx context.Context, e *endpoint) error { _, err := echo(ctx, e, 5000, hashOf(5000)); return err }},
		{name: "echo cut short", wantErr: "got 4999 bytes",
			handler: func(w http.ResponseWriter, r *http.Request) {
				raw, _ := io.ReadAll(r.Body)
				_, _ = w.Write(raw[1:])
			},
			run: func(ctx context.Context, e *endpoint) error { _, err := echo(ctx, e, 5000, hashOf(5000)); return err }},
		{name: "burst skipping an event", wantErr: "event 2 arrived where 1 was due",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "data: {\"i\":0}\n\ndata: {\"i\":2}\n\n")
			},
			run: func(ctx context.Context, e *endpoint) error { _, err := burst(ctx, e, 3); return err }},
		{name: "burst ending early", wantErr: "2 events, want 3",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "data: {\"i\":0}\n\ndata: {\"i\":1}\n\n")
			},
			run: func(ctx context.Context, e *endpoint) error { _, err := burst(ctx, e, 3); return err }},
		{name: "non-200 answer", wantErr: "status 500",
			handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
			run:     func(ctx context.Context, e *endpoint) error { _, err := invokeOp(e)(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			e := directEndpoint(strings.TrimPrefix(srv.URL, "http://"), "s", 1)
			defer e.close()
			err := tt.run(t.Context(), e)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestEndpoint_Request_Signs: a Berth endpoint sends the runtime ARN as an escaped label,
// the session header and a SigV4 signature over the body's SHA-256; a direct one signs
// nothing.
func TestEndpoint_Request_Signs(t *testing.T) {
	type seen struct{ path, auth, sha, session string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get(sessionHeader)}
	}))
	defer srv.Close()
	arn := "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/bench_load-AbCdEf1234"
	creds := aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "secret"}
	body := []byte(`{"op":"incr"}`)
	sum := sha256.Sum256(body)

	b := berthEndpoint(srv.URL, arn, "sess", creds, 1)
	defer b.close()
	req, cost, err := b.small(t.Context(), "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	if cost <= 0 {
		t.Errorf("signing cost %v", cost)
	}
	resp, err := b.do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := drain(resp); err != nil {
		t.Fatal(err)
	}
	s := <-got
	day := time.Now().UTC().Format("20060102")
	if want := "/runtimes/" + escapeLabel(arn) + "/invocations"; s.path != want {
		t.Errorf("path %s, want %s", s.path, want)
	}
	if want := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=AKIDBENCH/%s/us-east-1/bedrock-agentcore/aws4_request", day); !strings.HasPrefix(s.auth, want) {
		t.Errorf("Authorization %q, want prefix %q", s.auth, want)
	}
	if s.sha != hex.EncodeToString(sum[:]) || s.session != "sess" {
		t.Errorf("content sha %q, session %q", s.sha, s.session)
	}

	d := directEndpoint(strings.TrimPrefix(srv.URL, "http://"), "sess", 1)
	defer d.close()
	req, cost, err = d.small(t.Context(), "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	if cost != 0 || req.Header.Get("Authorization") != "" {
		t.Errorf("direct request signed: cost %v, Authorization %q", cost, req.Header.Get("Authorization"))
	}
}
