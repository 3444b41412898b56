package server_test

import (
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"berth.dev/berth/internal/client"
)

// BenchmarkInvokeWarm invokes one warm session of the Go test agent on linuxns through the
// whole server — SigV4 verification, the runtime and endpoint lookup, the session lease,
// the proxy into the sandbox — with the AWS SDK client in the same process. It is the
// profile to read for the server's per-invoke cost (bench/ measures it against the bare
// agent): go test ./internal/server -run '^$' -bench InvokeWarm -cpuprofile cpu.out.
func BenchmarkInvokeWarm(b *testing.B) {
	ts := startServer(b, b.TempDir())
	_, arn := ts.deployAgent(b, "bench_warm")
	// The SDK's request-body race drops connections on loopback (client.SDKHTTPClient).
	data := ts.Data(func(o *bedrockagentcore.Options) { o.HTTPClient = client.SDKHTTPClient() })
	in := &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(sid("warm")),
		ContentType: aws.String("application/json"), Payload: []byte(`{"op":"incr"}`),
	}
	invoke := func() {
		out, err := data.InvokeAgentRuntime(context.Background(), in)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, out.Response)
		if cerr := out.Response.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	invoke() // the session starts
	for b.Loop() {
		invoke()
	}
}
