package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	data "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"berth.dev/berth/internal/client"
)

// api holds the clients of one server: the AWS SDK's control-plane, data-plane and S3
// clients pointed at it, and the client of Berth's own extension API.
type api struct {
	endpoint string
	creds    aws.CredentialsProvider
	control  *cp.Client
	data     *data.Client
	store    *s3.Client
	berth    *client.Client
}

// connect is the prologue of a command that talks to a server: the output format (-o
// json?) and the server's clients.
func (g *globals) connect(ctx context.Context) (*api, bool, error) {
	asJSON, err := g.json()
	if err != nil {
		return nil, false, err
	}
	a, err := g.api(ctx)
	return a, asJSON, err
}

func (g *globals) api(ctx context.Context) (*api, error) {
	cfg, err := g.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	ep := strings.TrimRight(g.endpoint, "/")
	if !strings.HasPrefix(ep, "http://") && !strings.HasPrefix(ep, "https://") {
		return nil, hintError{fmt.Errorf("endpoint %q is not an http(s) URL", g.endpoint), "pass --endpoint http://HOST:PORT"}
	}
	return &api{
		endpoint: ep,
		creds:    cfg.Credentials,
		control:  cp.NewFromConfig(cfg, func(o *cp.Options) { o.BaseEndpoint = aws.String(ep) }),
		data:     data.NewFromConfig(cfg, func(o *data.Options) { o.BaseEndpoint = aws.String(ep) }),
		store: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(ep + "/s3")
			o.UsePathStyle = true
		}),
		berth: client.New(ep, cfg.Region, cfg.Credentials, nil),
	}, nil
}

// findRuntime returns the runtime called name, or nil when there is none.
func (a *api) findRuntime(ctx context.Context, name string) (*types.AgentRuntime, error) {
	p := cp.NewListAgentRuntimesPaginator(a.control, &cp.ListAgentRuntimesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list runtimes: %w", err)
		}
		for _, r := range page.AgentRuntimes {
			if aws.ToString(r.AgentRuntimeName) == name {
				return &r, nil
			}
		}
	}
	return nil, nil
}

// mustFindRuntime is findRuntime where a missing runtime is an error with a hint.
func (a *api) mustFindRuntime(ctx context.Context, name string) (*types.AgentRuntime, error) {
	rt, err := a.findRuntime(ctx, name)
	if err != nil {
		return nil, err
	}
	if rt == nil {
		return nil, hintError{fmt.Errorf("no agent runtime is called %q", name), "'berth status' lists the runtimes; 'berth deploy' creates one"}
	}
	return rt, nil
}
