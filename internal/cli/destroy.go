package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/client"
)

// destroyPlan is what destroy removes (or, with --dry-run, would remove).
type destroyPlan struct {
	Runtime      runtimeView    `json:"agentRuntime"`
	Versions     int            `json:"versions"`
	Endpoints    []endpointView `json:"endpoints"`
	LiveSessions int            `json:"liveSessions"`
	CodeObjects  []string       `json:"codeObjects"`
	DryRun       bool           `json:"dryRun"`
}

func newDestroyCmd(g *globals, stdout io.Writer) *cobra.Command {
	var name, bucket string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "destroy [--name NAME] [--dry-run]",
		Short: "Delete an agent runtime with its versions, endpoints, sessions and uploaded code",
		Long: `Delete an agent runtime: its versions and endpoints go with it, its live sessions are
stopped, and the code zips 'berth deploy' uploaded for it (s3://<bucket>/<name>/…) are
deleted. Without --name, the runtime is the one .berth.yaml names. --dry-run prints what
would go and changes nothing. (The project's local server, if one runs, keeps running:
'berth local stop' stops it.)`,
		Example: `  berth destroy --dry-run
  berth destroy --name hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := runtimeName(name, "berth destroy --name my_agent")
			if err != nil {
				return err
			}
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			plan, err := planDestroy(cmd.Context(), a, name, bucket)
			if err == nil && !dryRun {
				err = runDestroy(cmd.Context(), a, plan, bucket)
			}
			if err != nil {
				return friendly(err, a.endpoint)
			}
			plan.DryRun = dryRun
			if asJSON {
				return writeJSON(stdout, plan)
			}
			verb := "Deleted"
			if dryRun {
				verb = "Would delete"
			}
			fmt.Fprintf(stdout, "%s runtime %s (%s): %d versions, %d endpoints, %d live sessions, %d code objects\n",
				verb, plan.Runtime.Name, plan.Runtime.ID, plan.Versions, len(plan.Endpoints), plan.LiveSessions, len(plan.CodeObjects))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "agent runtime to delete (default: .berth.yaml's)")
	cmd.Flags().StringVar(&bucket, "bucket", "berth-agents", "bucket 'berth deploy' uploaded the code to")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be deleted, delete nothing")
	return cmd
}

func planDestroy(ctx context.Context, a *api, name, bucket string) (destroyPlan, error) {
	d, err := describeRuntime(ctx, a, name)
	if err != nil {
		return destroyPlan{}, err
	}
	plan := destroyPlan{Runtime: d.runtimeView, Versions: len(d.Versions), Endpoints: d.Endpoints, CodeObjects: []string{}}
	live, err := a.berth.ListSessions(ctx, client.SessionFilter{RuntimeID: d.ID, LiveOnly: true})
	if err != nil {
		return plan, err
	}
	plan.LiveSessions = len(live)
	objs, err := codeObjects(ctx, a, bucket, name)
	if err != nil {
		return plan, err
	}
	plan.CodeObjects = objs
	return plan, nil
}

// codeObjects lists the keys under <name>/ in bucket; a missing bucket holds none.
func codeObjects(ctx context.Context, a *api, bucket, name string) ([]string, error) {
	keys := []string{}
	p := s3.NewListObjectsV2Paginator(a.store, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(name + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if isNoSuchBucket(err) {
				return keys, nil
			}
			return nil, fmt.Errorf("list code objects: %w", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func runDestroy(ctx context.Context, a *api, plan destroyPlan, bucket string) error {
	if _, err := a.control.DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(plan.Runtime.ID)}); err != nil {
		return err
	}
	for _, k := range plan.CodeObjects {
		if _, err := a.store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
			return fmt.Errorf("delete s3://%s/%s: %w", bucket, k, err)
		}
	}
	st, err := loadState()
	if err != nil {
		return err
	}
	if _, ok := st.Sessions[plan.Runtime.ARN]; ok {
		delete(st.Sessions, plan.Runtime.ARN)
		return st.save()
	}
	return nil
}
