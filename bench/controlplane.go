package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// controlPlane measures CreateAgentRuntime → READY for a code zip and for an image (each
// time a fresh artifact, so nothing prepared is reused), then warm invoke latency with the
// runtimes there are, then again after storing enough runtimes to reach 1,000 (50 in
// -short). It runs on the first driver's server only: nothing in it starts a sandbox but the
// one warm session.
func controlPlane(ctx context.Context, s *suite) error {
	env := s.envs[0]
	d, err := s.deployedOn(ctx, env)
	if err != nil {
		return err
	}
	reps := s.counts(10, 2)
	var zipReady, imgReady []time.Duration
	for i := range reps {
		files := harness.PythonAgentFiles(false)
		files["nonce.txt"] = fmt.Sprintf("%d-%d", time.Now().UnixNano(), i)
		body, err := harness.Zip(files)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("cp-%d.zip", i)
		if err := env.UploadCode(ctx, key, body); err != nil {
			return err
		}
		dz, err := timeReady(ctx, env, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(fmt.Sprintf("cp_zip_%d", i)), AgentRuntimeArtifact: harness.CodeArtifact(harness.CodeBucket, key)})
		if err != nil {
			return err
		}
		zipReady = append(zipReady, dz)
		uri, err := env.PushGoAgentImage(ctx, fmt.Sprintf("bench/cp%d:v1", i), fmt.Sprintf("BENCH_NONCE=%d-%d", time.Now().UnixNano(), i))
		if err != nil {
			return err
		}
		di, err := timeReady(ctx, env, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(fmt.Sprintf("cp_image_%d", i)), AgentRuntimeArtifact: harness.ImageArtifact(uri)})
		if err != nil {
			return err
		}
		imgReady = append(imgReady, di)
	}
	const pollNote = "GetAgentRuntime polled every 5 ms; a fresh artifact each time (distinct digest)"
	s.report.Add(stats.Result{Scenario: "control plane", Case: "CreateAgentRuntime → READY, code zip (python agent)",
		Summary: stats.Summarize("ms", stats.Millis(zipReady)), Note: pollNote + "; zip uploaded beforehand"})
	s.report.Add(stats.Result{Scenario: "control plane", Case: "CreateAgentRuntime → READY, image (go agent, 1 layer)",
		Summary: stats.Summarize("ms", stats.Millis(imgReady)), Note: pollNote + "; pushed beforehand to the built-in registry"})

	sid := harness.NewSessionID()
	invokes := s.counts(300, 20)
	few, err := countRuntimes(ctx, env)
	if err != nil {
		return err
	}
	fewLat, err := warmInvokes(ctx, env, d.goARN, sid, invokes)
	if err != nil {
		return err
	}
	target := s.counts(1000, 50)
	created, rate, err := storeRuntimes(ctx, env, target-few)
	if err != nil {
		return err
	}
	many, err := countRuntimes(ctx, env)
	if err != nil {
		return err
	}
	manyLat, err := warmInvokes(ctx, env, d.goARN, sid, invokes)
	if err != nil {
		return err
	}
	if err := env.StopSession(ctx, d.goARN, sid); err != nil {
		return err
	}
	s.report.Add(stats.Result{Scenario: "control plane", Case: fmt.Sprintf("CreateAgentRuntime throughput (%d runtimes, 8 clients)", created),
		Summary: stats.Summarize("runtimes/s", []float64{rate}), Note: "same image for all: prepared once, shared by digest"})
	fewSum := stats.Summarize("ms", stats.Millis(fewLat))
	manySum := stats.Summarize("ms", stats.Millis(manyLat))
	s.report.Add(stats.Result{Scenario: "control plane", Case: fmt.Sprintf("warm invoke, %d stored runtimes", few),
		Summary: fewSum, Note: "go agent, one live session, first byte"})
	s.report.Add(stats.Result{Scenario: "control plane", Case: fmt.Sprintf("warm invoke, %d stored runtimes", many),
		Summary: manySum, Note: fmt.Sprintf("same session; p50 %s× the figure with %d runtimes", harness.Num(safeDiv(manySum.Median, fewSum.Median)), few)})
	s.figs.invokeStored = map[int]stats.Summary{few: fewSum, many: manySum}
	return nil
}

// timeReady times CreateAgentRuntime until GetAgentRuntime reports READY.
func timeReady(ctx context.Context, env *harness.Env, in *cp.CreateAgentRuntimeInput) (time.Duration, error) {
	start := time.Now()
	id, _, err := env.CreateRuntime(ctx, in)
	if err != nil {
		return 0, err
	}
	if err := env.WaitReady(ctx, id, 5*time.Millisecond); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// warmInvokes invokes one session n times after 10 warm-up calls and returns the times to
// first byte.
func warmInvokes(ctx context.Context, env *harness.Env, arn, sid string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range n + 10 {
		t, err := env.Invoke(ctx, arn, sid, "application/json", incrBody)
		if err != nil {
			return nil, err
		}
		if i >= 10 {
			out = append(out, t.TTFB)
		}
	}
	return out, nil
}

// storeRuntimes creates n runtimes of one image with 8 concurrent clients, waits until all
// are READY, and returns how many it created and the creation rate (calls/s).
func storeRuntimes(ctx context.Context, env *harness.Env, n int) (int, float64, error) {
	if n <= 0 {
		return 0, 0, nil
	}
	uri, err := env.PushGoAgentImage(ctx, "bench/stored:v1")
	if err != nil {
		return 0, 0, err
	}
	var (
		next atomic.Int64
		mu   sync.Mutex
		ids  []string
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) || ctx.Err() != nil {
					return
				}
				id, _, err := env.CreateRuntime(ctx, &cp.CreateAgentRuntimeInput{
					AgentRuntimeName: aws.String(fmt.Sprintf("stored_%d", i)), AgentRuntimeArtifact: harness.ImageArtifact(uri)})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, id)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rate := float64(len(ids)) / time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		return len(ids), rate, err
	}
	for _, id := range ids {
		if err := env.WaitReady(ctx, id, 20*time.Millisecond); err != nil {
			return len(ids), rate, err
		}
	}
	return len(ids), rate, nil
}

// countRuntimes pages through ListAgentRuntimes.
func countRuntimes(ctx context.Context, env *harness.Env) (int, error) {
	p := cp.NewListAgentRuntimesPaginator(env.Control(), &cp.ListAgentRuntimesInput{MaxResults: aws.Int32(100)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("list runtimes: %w", err)
		}
		n += len(out.AgentRuntimes)
	}
	return n, nil
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
