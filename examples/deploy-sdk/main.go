// Command deploy-sdk deploys an agent to Berth with nothing but the AWS SDK for Go: it zips a
// directory, uploads it to Berth's built-in S3-compatible store, creates (or updates) an agent
// runtime from it, waits until the runtime is READY, and invokes it twice in one session.
// The same code works against AWS by dropping the endpoint override — that is the point.
//
//	AWS_SHARED_CREDENTIALS_FILE=/var/lib/berth/credentials \
//	  go run ./examples/deploy-sdk -endpoint http://127.0.0.1:8787 -dir examples/hello-python
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:8787", "Berth server URL")
	dir := flag.String("dir", "examples/hello-python", "agent source directory")
	name := flag.String("name", "hello_python", "agent runtime name")
	bucket := flag.String("bucket", "agents", "bucket in Berth's object store")
	payload := flag.String("invoke", `{"prompt":"Berth"}`, "payload to invoke the agent with (empty: do not invoke)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, *endpoint, *dir, *name, *bucket, *payload); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint, dir, name, bucket, payload string) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(envOr("AWS_REGION", "us-east-1")))
	if err != nil {
		return err
	}
	store := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint + "/s3"); o.UsePathStyle = true })
	control := cp.NewFromConfig(cfg, func(o *cp.Options) { o.BaseEndpoint = aws.String(endpoint) })

	zipped, err := zipDir(dir)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%s/%d.zip", name, time.Now().UnixNano())
	if _, err := store.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return fmt.Errorf("create bucket: %w", err)
		}
	}
	if _, err := store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(zipped)}); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	fmt.Printf("uploaded s3://%s/%s (%d bytes)\n", bucket, key, len(zipped))

	artifact := &types.AgentRuntimeArtifactMemberCodeConfiguration{Value: types.CodeConfiguration{
		Code:       &types.CodeMemberS3{Value: types.S3Location{Bucket: aws.String(bucket), Prefix: aws.String(key)}},
		Runtime:    types.AgentManagedRuntimeTypePython311,
		EntryPoint: []string{"main.py"},
	}}
	role := aws.String("arn:aws:iam::000000000000:role/AgentRole")
	network := &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic}

	id, err := findRuntime(ctx, control, name)
	if err != nil {
		return err
	}
	if id == "" {
		out, err := control.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(name), AgentRuntimeArtifact: artifact, RoleArn: role, NetworkConfiguration: network,
		})
		if err != nil {
			return fmt.Errorf("create runtime: %w", err)
		}
		id = aws.ToString(out.AgentRuntimeId)
		fmt.Printf("created %s (version %s, %s)\n", aws.ToString(out.AgentRuntimeArn), aws.ToString(out.AgentRuntimeVersion), out.Status)
	} else {
		out, err := control.UpdateAgentRuntime(ctx, &cp.UpdateAgentRuntimeInput{
			AgentRuntimeId: aws.String(id), AgentRuntimeArtifact: artifact, RoleArn: role, NetworkConfiguration: network,
		})
		if err != nil {
			return fmt.Errorf("update runtime: %w", err)
		}
		fmt.Printf("updated %s to version %s (%s)\n", aws.ToString(out.AgentRuntimeArn), aws.ToString(out.AgentRuntimeVersion), out.Status)
	}
	for {
		got, err := control.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			return err
		}
		switch got.Status {
		case types.AgentRuntimeStatusReady:
			fmt.Printf("READY: %s version %s\n", aws.ToString(got.AgentRuntimeArn), aws.ToString(got.AgentRuntimeVersion))
			if payload == "" {
				return nil
			}
			return invoke(ctx, cfg, endpoint, aws.ToString(got.AgentRuntimeArn), payload)
		case types.AgentRuntimeStatusCreateFailed, types.AgentRuntimeStatusUpdateFailed:
			return fmt.Errorf("runtime %s: %s", got.Status, aws.ToString(got.FailureReason))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// invoke calls the agent twice in one session with the data-plane client.
func invoke(ctx context.Context, cfg aws.Config, endpoint, arn, payload string) error {
	data := bedrockagentcore.NewFromConfig(cfg, func(o *bedrockagentcore.Options) { o.BaseEndpoint = aws.String(endpoint) })
	session := fmt.Sprintf("deploy-sdk-example-session-%d", time.Now().UnixNano())
	for i := range 2 {
		out, err := data.InvokeAgentRuntime(ctx, &bedrockagentcore.InvokeAgentRuntimeInput{
			AgentRuntimeArn:  aws.String(arn),
			RuntimeSessionId: aws.String(session),
			ContentType:      aws.String("application/json"),
			Payload:          []byte(payload),
		})
		if err != nil {
			return fmt.Errorf("invoke: %w", err)
		}
		answer, err := io.ReadAll(out.Response)
		_ = out.Response.Close()
		if err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		fmt.Printf("invocation %d (session %s): %s\n", i+1, aws.ToString(out.RuntimeSessionId), bytes.TrimSpace(answer))
	}
	return nil
}

func findRuntime(ctx context.Context, c *cp.Client, name string) (string, error) {
	p := cp.NewListAgentRuntimesPaginator(c, &cp.ListAgentRuntimesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list runtimes: %w", err)
		}
		for _, r := range page.AgentRuntimes {
			if aws.ToString(r.AgentRuntimeName) == name {
				return aws.ToString(r.AgentRuntimeId), nil
			}
		}
	}
	return "", nil
}

func zipDir(dir string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err = fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		w, err := zw.Create(rel)
		if err != nil {
			return err
		}
		f, err := root.Open(rel)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		_, err = io.Copy(w, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
