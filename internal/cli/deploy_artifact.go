package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// preparedArtifact is a deployable artifact and where it came from.
type preparedArtifact struct {
	artifact     types.AgentRuntimeArtifact
	codeLocation string // s3://… of an uploaded zip
	image        string // containerUri
	vendored     string // the tool that installed dependencies into the zip
}

// prepareArtifact turns the target into an agentRuntimeArtifact: a zip uploaded to the
// object store, an image reference as given, or an image (from an archive, or built from a
// Go module) pushed to the built-in registry.
func prepareArtifact(ctx context.Context, a *api, t deployTarget, prog *progress) (preparedArtifact, error) {
	if t.DeploymentType == deployZip {
		return uploadCode(ctx, a, t, prog)
	}
	uri := t.Image
	if uri == "" {
		var img v1.Image
		var err error
		if t.ImageArchive != "" {
			prog.step("Reading %s", t.ImageArchive)
			img, err = loadArchive(t.ImageArchive)
		} else {
			img, err = buildGoImage(ctx, t.dir, t.Entrypoint, prog)
		}
		if err != nil {
			return preparedArtifact{}, err
		}
		p, err := a.pushImage(ctx, img, repoName(t.Name), newTag(), prog)
		if err != nil {
			return preparedArtifact{}, err
		}
		uri = p.Reference
	}
	return preparedArtifact{
		artifact: &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(uri)}},
		image:    uri,
	}, nil
}

// uploadCode zips the directory with its vendored dependencies, uploads it and returns the
// codeConfiguration pointing at it.
func uploadCode(ctx context.Context, a *api, t deployTarget, prog *progress) (preparedArtifact, error) {
	st, err := os.Stat(filepath.Join(t.dir, t.Entrypoint))
	if err != nil || !st.Mode().IsRegular() {
		return preparedArtifact{}, hintError{fmt.Errorf("entry point %s is not a file in %s", t.Entrypoint, t.dir), "pass --entrypoint with the file that starts the agent"}
	}
	var deps vendored
	if !t.noDeps {
		if deps, err = vendorDeps(ctx, t.dir, t.Runtime, prog); err != nil {
			return preparedArtifact{}, err
		}
		defer deps.cleanup()
	}
	prog.step("Packing %s", t.dir)
	zipped, files, err := zipTrees(append([]zipTree{{dir: t.dir, skip: deps.replace}}, deps.trees...)...)
	if err != nil {
		return preparedArtifact{}, err
	}
	if _, err := a.store.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(t.Bucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		var exists *s3types.BucketAlreadyExists
		if !errors.As(err, &owned) && !errors.As(err, &exists) {
			return preparedArtifact{}, fmt.Errorf("create bucket %s: %w", t.Bucket, err)
		}
	}
	key := fmt.Sprintf("%s/%d.zip", t.Name, time.Now().UnixNano())
	prog.step("Uploading %d files (%d KiB)", files, len(zipped)/1024)
	if _, err := a.store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(t.Bucket), Key: aws.String(key), Body: bytes.NewReader(zipped)}); err != nil {
		return preparedArtifact{}, fmt.Errorf("upload %d files (%d bytes): %w", files, len(zipped), err)
	}
	return preparedArtifact{
		artifact: &types.AgentRuntimeArtifactMemberCodeConfiguration{Value: types.CodeConfiguration{
			Code:       &types.CodeMemberS3{Value: types.S3Location{Bucket: aws.String(t.Bucket), Prefix: aws.String(key)}},
			Runtime:    types.AgentManagedRuntimeType(t.Runtime),
			EntryPoint: []string{t.Entrypoint},
		}},
		codeLocation: "s3://" + t.Bucket + "/" + key,
		vendored:     deps.tool,
	}, nil
}

// waitReady polls the runtime until its latest version is READY or failed, with a progress
// line on a terminal.
func waitReady(ctx context.Context, a *api, id string, timeout time.Duration, prog *progress) (*cp.GetAgentRuntimeOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	shown := ""
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
			return got, nil
		case types.AgentRuntimeStatusCreateFailed, types.AgentRuntimeStatusUpdateFailed:
			return nil, hintError{fmt.Errorf("version %s is %s: %s", aws.ToString(got.AgentRuntimeVersion), got.Status, aws.ToString(got.FailureReason)),
				"fix the artifact and deploy again"}
		}
		if s := fmt.Sprintf("Waiting for %s version %s: %s", aws.ToString(got.AgentRuntimeName), aws.ToString(got.AgentRuntimeVersion), got.Status); s != shown {
			prog.step("%s", s)
			shown = s
		}
		select {
		case <-ctx.Done():
			return nil, hintError{fmt.Errorf("runtime %s not READY after %s (last status %s)", id, timeout, got.Status), "'berth status --name …' shows where it is; raise --timeout"}
		case <-tick.C:
		}
	}
}
