package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"
)

// deployFlags are berth deploy's own flags.
type deployFlags struct {
	name, dir, image, entrypoint, runtime, bucket, role string
	env, allowHeaders                                   []string
	timeout                                             time.Duration
}

// deployResult is what deploy prints.
type deployResult struct {
	Name         string `json:"agentRuntimeName"`
	ID           string `json:"agentRuntimeId"`
	ARN          string `json:"agentRuntimeArn"`
	Version      string `json:"agentRuntimeVersion"`
	Status       string `json:"status"`
	Created      bool   `json:"created"`
	CodeLocation string `json:"codeLocation,omitempty"`
	Image        string `json:"containerUri,omitempty"`
}

func newDeployCmd(g *globals, stdout io.Writer) *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "deploy --name NAME (--dir DIR | --image REF)",
		Short: "Deploy an agent: zip a directory (or take an image), create or update its runtime, wait until READY",
		Long: `Deploy an agent runtime to a Berth server.

With --dir, the directory is packed into a code zip (.git, .berth, __pycache__ and .venv are
left out), uploaded to the server's built-in object store (s3://<bucket>/<name>/<time>.zip)
and deployed as a codeConfiguration with --runtime and --entrypoint. With --image, the OCI
image reference is deployed as a containerConfiguration.

If a runtime called NAME exists it gets a new version, otherwise it is created. The command
waits until the version is READY and prints its ARN and version. The runtime's environment
and header allowlist are exactly the --env and --allow-header values given (an update
without them clears them).`,
		Example: `  berth deploy --name hello --dir examples/hello-python
  berth deploy --name hello --dir . --entrypoint agent.py --env GREETING=Hi -o json
  berth deploy --name web --image 127.0.0.1:8787/agents/web:1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			res, err := deploy(cmd.Context(), a, f, stdout)
			if err != nil {
				return friendly(err, a.endpoint)
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			verb := "Updated"
			if res.Created {
				verb = "Created"
			}
			fmt.Fprintf(stdout, "%s %s: version %s is %s\n", verb, res.Name, res.Version, res.Status)
			fmt.Fprintf(stdout, "ARN: %s\n", res.ARN)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "agent runtime name (letters, digits, underscores)")
	fl.StringVar(&f.dir, "dir", "", "directory to deploy as a code zip")
	fl.StringVar(&f.image, "image", "", "OCI image reference to deploy instead of a directory")
	fl.StringVar(&f.entrypoint, "entrypoint", "main.py", "entry point inside --dir")
	fl.StringVar(&f.runtime, "runtime", string(types.AgentManagedRuntimeTypePython311), "managed runtime for --dir (PYTHON_3_10 … PYTHON_3_14, NODE_22)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	fl.StringArrayVar(&f.allowHeaders, "allow-header", nil, "request header the agent may receive (repeatable; a bare Name gets the "+customHeaderPrefix+" prefix)")
	fl.StringVar(&f.bucket, "bucket", "berth-agents", "object store bucket the code zip is uploaded to")
	fl.StringVar(&f.role, "role", "arn:aws:iam::000000000000:role/BerthAgent", "execution role ARN recorded on the runtime")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for READY")
	return cmd
}

func deploy(ctx context.Context, a *api, f deployFlags, stdout io.Writer) (deployResult, error) {
	res := deployResult{Name: f.name, Image: f.image}
	if f.name == "" {
		return res, hintError{errors.New("deploy needs --name"), "for example: berth deploy --name my_agent --dir ."}
	}
	if (f.dir == "") == (f.image == "") {
		return res, hintError{errors.New("deploy needs exactly one of --dir and --image"), "--dir deploys a code zip, --image an OCI image"}
	}
	env, err := parseEnv(f.env)
	if err != nil {
		return res, err
	}
	var artifact types.AgentRuntimeArtifact
	if f.image != "" {
		artifact = &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(f.image)}}
	} else {
		if artifact, res.CodeLocation, err = uploadCode(ctx, a, f); err != nil {
			return res, err
		}
	}
	existing, err := a.findRuntime(ctx, f.name)
	if err != nil {
		return res, err
	}
	role := aws.String(f.role)
	var headers types.RequestHeaderConfiguration
	if len(f.allowHeaders) > 0 {
		names := make([]string, len(f.allowHeaders))
		for i, h := range f.allowHeaders {
			names[i] = customHeaderName(h)
		}
		headers = &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: names}
	}
	network := &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic}
	if existing == nil {
		out, err := a.control.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(f.name), AgentRuntimeArtifact: artifact, RoleArn: role,
			NetworkConfiguration: network, EnvironmentVariables: env, RequestHeaderConfiguration: headers,
		})
		if err != nil {
			return res, err
		}
		res.ID, res.Created = aws.ToString(out.AgentRuntimeId), true
	} else {
		out, err := a.control.UpdateAgentRuntime(ctx, &cp.UpdateAgentRuntimeInput{
			AgentRuntimeId: existing.AgentRuntimeId, AgentRuntimeArtifact: artifact, RoleArn: role,
			NetworkConfiguration: network, EnvironmentVariables: env, RequestHeaderConfiguration: headers,
		})
		if err != nil {
			return res, err
		}
		res.ID = aws.ToString(out.AgentRuntimeId)
	}
	got, err := waitReady(ctx, a, res.ID, f.timeout, stdout)
	if err != nil {
		return res, err
	}
	res.ARN, res.Version, res.Status = aws.ToString(got.AgentRuntimeArn), aws.ToString(got.AgentRuntimeVersion), string(got.Status)
	return res, nil
}

// uploadCode zips f.dir, uploads it and returns the codeConfiguration pointing at it.
func uploadCode(ctx context.Context, a *api, f deployFlags) (types.AgentRuntimeArtifact, string, error) {
	st, err := os.Stat(filepath.Join(f.dir, f.entrypoint))
	if err != nil || !st.Mode().IsRegular() {
		return nil, "", hintError{fmt.Errorf("entry point %s is not a file in %s", f.entrypoint, f.dir), "pass --entrypoint with the file that starts the agent"}
	}
	zipped, files, err := zipDir(f.dir)
	if err != nil {
		return nil, "", err
	}
	if _, err := a.store.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(f.bucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		var exists *s3types.BucketAlreadyExists
		if !errors.As(err, &owned) && !errors.As(err, &exists) {
			return nil, "", fmt.Errorf("create bucket %s: %w", f.bucket, err)
		}
	}
	key := fmt.Sprintf("%s/%d.zip", f.name, time.Now().UnixNano())
	if _, err := a.store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader(zipped)}); err != nil {
		return nil, "", fmt.Errorf("upload %d files (%d bytes): %w", files, len(zipped), err)
	}
	return &types.AgentRuntimeArtifactMemberCodeConfiguration{Value: types.CodeConfiguration{
		Code:       &types.CodeMemberS3{Value: types.S3Location{Bucket: aws.String(f.bucket), Prefix: aws.String(key)}},
		Runtime:    types.AgentManagedRuntimeType(f.runtime),
		EntryPoint: []string{f.entrypoint},
	}}, "s3://" + f.bucket + "/" + key, nil
}

// waitReady polls the runtime until its latest version is READY or failed, drawing a
// progress line when stdout is a terminal.
func waitReady(ctx context.Context, a *api, id string, timeout time.Duration, stdout io.Writer) (*cp.GetAgentRuntimeOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tty := isTerminal(stdout)
	start := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := a.control.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, hintError{fmt.Errorf("runtime %s not READY after %s", id, timeout), "'berth status --name …' shows where it is; raise --timeout"}
			}
			return nil, err
		}
		switch got.Status {
		case types.AgentRuntimeStatusReady:
			if tty {
				fmt.Fprint(stdout, "\r\033[K")
			}
			return got, nil
		case types.AgentRuntimeStatusCreateFailed, types.AgentRuntimeStatusUpdateFailed:
			if tty {
				fmt.Fprintln(stdout)
			}
			return nil, hintError{fmt.Errorf("version %s is %s: %s", aws.ToString(got.AgentRuntimeVersion), got.Status, aws.ToString(got.FailureReason)),
				"fix the artifact and deploy again"}
		}
		if tty {
			fmt.Fprintf(stdout, "\r\033[KWaiting for %s version %s: %s (%s)", aws.ToString(got.AgentRuntimeName),
				aws.ToString(got.AgentRuntimeVersion), got.Status, time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return nil, hintError{fmt.Errorf("runtime %s not READY after %s (last status %s)", id, timeout, got.Status), "'berth status --name …' shows where it is; raise --timeout"}
		case <-tick.C:
		}
	}
}

// parseEnv turns KEY=VALUE flags into a map (nil when there are none).
func parseEnv(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, hintError{fmt.Errorf("--env %q is not KEY=VALUE", kv), "for example: --env GREETING=Hello"}
		}
		env[k] = v
	}
	return env, nil
}
