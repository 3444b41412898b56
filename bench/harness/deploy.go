package harness

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// CodeBucket is the bucket of the built-in S3 store the harness uploads code zips to.
const CodeBucket = "bench-code"

var (
	benchRole    = aws.String("arn:aws:iam::000000000000:role/BenchAgent")
	benchNetwork = &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic}
)

// Control returns a control-plane SDK client for the server (no retries).
func (e *Env) Control() *cp.Client {
	return cp.New(cp.Options{
		BaseEndpoint:     aws.String(e.BaseURL),
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(e.Creds.AccessKeyID, e.Creds.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       e.Raw,
	})
}

// S3 returns an S3 client for the server's built-in object store (path style).
func (e *Env) S3() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(e.BaseURL + "/s3"),
		Region:       Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e.Creds.AccessKeyID, e.Creds.SecretAccessKey, ""),
		HTTPClient:   e.Raw,
	})
}

// DeployGoAgent pushes the Go test agent as an OCI image, creates runtime name from it with
// the given environment, waits for READY and returns the runtime ARN.
func (e *Env) DeployGoAgent(ctx context.Context, name string, env map[string]string) (string, error) {
	uri, err := e.PushGoAgentImage(ctx, "bench/"+strings.ToLower(name)+":v1")
	if err != nil {
		return "", err
	}
	return e.Deploy(ctx, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String(name),
		AgentRuntimeArtifact: ImageArtifact(uri),
		EnvironmentVariables: env,
	})
}

// DeployPythonAgent uploads the Python agent as a code zip, creates runtime name from it,
// waits for READY and returns the runtime ARN.
func (e *Env) DeployPythonAgent(ctx context.Context, name string, env map[string]string) (string, error) {
	return e.deployPython(ctx, name, env, false)
}

// DeployHeavyPythonAgent is DeployPythonAgent for the heavy variant, whose imports take
// HeavyImportSeconds before it serves.
func (e *Env) DeployHeavyPythonAgent(ctx context.Context, name string, env map[string]string) (string, error) {
	return e.deployPython(ctx, name, env, true)
}

func (e *Env) deployPython(ctx context.Context, name string, env map[string]string, heavy bool) (string, error) {
	key := name + ".zip"
	if err := e.UploadPythonAgent(ctx, key, heavy); err != nil {
		return "", err
	}
	return e.Deploy(ctx, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String(name),
		AgentRuntimeArtifact: CodeArtifact(CodeBucket, key),
		EnvironmentVariables: env,
	})
}

// UploadPythonAgent puts the Python agent's code zip (heavy or not) at s3://CodeBucket/key.
func (e *Env) UploadPythonAgent(ctx context.Context, key string, heavy bool) error {
	body, err := PythonAgentZip(heavy)
	if err != nil {
		return err
	}
	return e.UploadCode(ctx, key, body)
}

// UploadCode puts a code zip at s3://CodeBucket/key, creating the bucket if needed.
func (e *Env) UploadCode(ctx context.Context, key string, body []byte) error {
	c := e.S3()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(CodeBucket)}); err != nil &&
		!strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") && !strings.Contains(err.Error(), "BucketAlreadyExists") {
		return fmt.Errorf("create bucket %s: %w", CodeBucket, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(CodeBucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// ImageArtifact is the artifact of an image runtime.
func ImageArtifact(uri string) types.AgentRuntimeArtifact {
	return &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(uri)}}
}

// CodeArtifact is the artifact of a Python 3.11 code-zip runtime with entry point main.py.
func CodeArtifact(bucket, key string) types.AgentRuntimeArtifact {
	return &types.AgentRuntimeArtifactMemberCodeConfiguration{Value: types.CodeConfiguration{
		Code:       &types.CodeMemberS3{Value: types.S3Location{Bucket: aws.String(bucket), Prefix: aws.String(key)}},
		Runtime:    types.AgentManagedRuntimeTypePython311,
		EntryPoint: []string{"main.py"},
	}}
}

// Deploy creates a runtime (filling in a role and public network mode when unset), waits
// for READY and returns its ARN.
func (e *Env) Deploy(ctx context.Context, in *cp.CreateAgentRuntimeInput) (string, error) {
	id, arn, err := e.CreateRuntime(ctx, in)
	if err != nil {
		return "", err
	}
	if err := e.WaitReady(ctx, id, 10*time.Millisecond); err != nil {
		return "", err
	}
	return arn, nil
}

// CreateRuntime calls CreateAgentRuntime without waiting and returns the runtime's id and
// ARN. A nil role or network configuration is filled in.
func (e *Env) CreateRuntime(ctx context.Context, in *cp.CreateAgentRuntimeInput) (id, arn string, err error) {
	if in.RoleArn == nil {
		in.RoleArn = benchRole
	}
	if in.NetworkConfiguration == nil {
		in.NetworkConfiguration = benchNetwork
	}
	out, err := e.Control().CreateAgentRuntime(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("create runtime %s: %w", aws.ToString(in.AgentRuntimeName), err)
	}
	return aws.ToString(out.AgentRuntimeId), aws.ToString(out.AgentRuntimeArn), nil
}

// WaitReady polls GetAgentRuntime every poll until the runtime leaves CREATING/UPDATING;
// anything but READY is an error carrying the failure reason.
func (e *Env) WaitReady(ctx context.Context, id string, poll time.Duration) error {
	c := e.Control()
	for {
		out, err := c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			return fmt.Errorf("get runtime %s: %w", id, err)
		}
		switch out.Status {
		case types.AgentRuntimeStatusCreating, types.AgentRuntimeStatusUpdating:
		case types.AgentRuntimeStatusReady:
			return nil
		default:
			return fmt.Errorf("runtime %s is %s: %s", id, out.Status, aws.ToString(out.FailureReason))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for runtime %s: %w", id, ctx.Err())
		case <-time.After(poll):
		}
	}
}
