package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"berth.dev/berth/test/testagent"
)

// TestInvoke_SSEStreamsAsWritten: an agent writing one event every 200 ms; the first event
// reaches the client before the agent has even written the last one.
func TestInvoke_SSEStreamsAsWritten(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "sse_agent", testagent.Image(t), nil)
	out, err := ts.Data().InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(sid("sse")),
		ContentType: aws.String("application/json"), Accept: aws.String("text/event-stream"),
		Payload: []byte(`{"op":"sse","n":5,"interval_ms":200}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = out.Response.Close() }()
	if aws.ToString(out.ContentType) != "text/event-stream" {
		t.Errorf("content type %q", aws.ToString(out.ContentType))
	}
	type event struct {
		I    int   `json:"i"`
		Sent int64 `json:"sent_unix_nano"`
	}
	var events []event
	var arrived []time.Time
	sc := bufio.NewScanner(out.Response)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		events = append(events, e)
		arrived = append(arrived, time.Now())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("got %d events, want 5", len(events))
	}
	last := time.Unix(0, events[4].Sent)
	if !arrived[0].Before(last) {
		t.Errorf("first event arrived at %v, after the last was written at %v: the stream was buffered", arrived[0], last)
	}
	for i := 1; i < len(arrived); i++ {
		if arrived[i].Before(arrived[i-1]) || events[i].I != i {
			t.Errorf("events out of order: %+v", events)
		}
	}
}

// payload generates n deterministic pseudo-random bytes without holding them.
type payload struct {
	r    *rand.ChaCha8
	left int64
}

func newPayload(n int64) *payload {
	return &payload{r: rand.NewChaCha8([32]byte{1, 2, 3}), left: n}
}

func (p *payload) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.r.Read(b)
	p.left -= int64(n)
	return n, nil
}

func hashOf(r io.Reader) (string, int64) {
	h := sha256.New()
	n, _ := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n
}

// heapPeak samples the live heap until stop is closed and returns the highest reading.
func heapPeak(stop <-chan struct{}) func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// TestInvoke_LargePayloadStreams: a 100,000,000-byte binary payload round-trips intact
// while the server (in this process) keeps its heap far below the payload's size;
// 100,000,001 bytes is a typed ValidationException.
func TestInvoke_LargePayloadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB")
	}
	ts := startServer(t)
	rt := ts.deployImage(t, "big_agent", testagent.Image(t), nil)
	const size = 100_000_000
	want, _ := hashOf(newPayload(size))

	u := ts.URL + "/runtimes/" + url.PathEscape(rt.ARN) + "/invocations"
	req, err := http.NewRequest("POST", u, newPayload(size))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", sid("big"))
	if err := v4.NewSigner().SignHTTP(context.Background(), ts.Creds, req, want, "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(base)
	stop := make(chan struct{})
	peak := heapPeak(stop)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		close(stop)
		t.Fatal(err)
	}
	got, n := hashOf(resp.Body)
	_ = resp.Body.Close()
	close(stop)
	if resp.StatusCode != 200 || n != size || got != want {
		t.Fatalf("round trip: status %d, %d bytes, hash %s (want %s)", resp.StatusCode, n, got, want)
	}
	// Client and server share this process; the client streams too, so heap growth over
	// the baseline is the server's (plus garbage not yet collected). Buffering the payload
	// would need more than 95 MiB.
	if grew := int64(peak()) - int64(base[0].Value.Uint64()); grew > 48<<20 {
		t.Errorf("heap grew by %d MiB while streaming 95 MiB: the payload was buffered", grew>>20)
	} else {
		t.Logf("heap growth while streaming %d bytes: %d MiB", size, grew>>20)
	}

	big := make([]byte, size+1)
	_, err = ts.Data().InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(sid("big")), Payload: big,
	})
	_ = asType[*dtypes.ValidationException](t, err)
}
