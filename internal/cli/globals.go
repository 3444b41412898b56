package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"
)

// Defaults of the user commands' global flags.
const (
	defaultEndpoint    = "http://127.0.0.1:8787"
	defaultCredentials = "/var/lib/berth/credentials" //nolint:gosec // a path, not a secret
	defaultRegion      = "us-east-1"
)

// globals are the flags every user command (deploy, invoke, status, sessions, destroy)
// takes: which server, which access key, which output format.
type globals struct {
	endpoint    string
	credentials string
	profile     string
	region      string
	output      string
}

// register adds the global flags to cmd as persistent flags, so its subcommands take them too.
func (g *globals) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.endpoint, "endpoint", envOr(defaultEndpoint, "BERTH_ENDPOINT"), "Berth server URL (env BERTH_ENDPOINT)")
	f.StringVar(&g.credentials, "credentials", envOr(defaultCredentials, "BERTH_CREDENTIALS", "AWS_SHARED_CREDENTIALS_FILE"),
		"shared credentials file holding the access key (env BERTH_CREDENTIALS, then AWS_SHARED_CREDENTIALS_FILE)")
	f.StringVar(&g.profile, "profile", envOr("default", "BERTH_PROFILE"), "profile in the credentials file (env BERTH_PROFILE)")
	f.StringVar(&g.region, "region", envOr(defaultRegion, "BERTH_REGION", "AWS_REGION"), "region the server signs for (env BERTH_REGION, then AWS_REGION)")
	f.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
}

// json reports whether -o json was asked for; it rejects unknown formats.
func (g *globals) json() (bool, error) {
	switch g.output {
	case "table", "":
		return false, nil
	case "json":
		return true, nil
	}
	return false, hintError{fmt.Errorf("unknown output format %q", g.output), "use -o table or -o json"}
}

// awsConfig reads the access key from the shared credentials file with the AWS SDK's own
// loader and returns an aws.Config holding it as static credentials: the environment's
// AWS_ACCESS_KEY_ID and friends are deliberately ignored so the CLI talks to Berth with
// Berth's key.
func (g *globals) awsConfig(ctx context.Context) (aws.Config, error) {
	if _, err := os.Stat(g.credentials); err != nil {
		hint := "start a server with 'berth server' (it writes <data-dir>/credentials), or pass --credentials / set BERTH_CREDENTIALS"
		if errors.Is(err, fs.ErrPermission) {
			hint = "the credentials file is readable by its owner only; run as that user or copy the file"
		}
		return aws.Config{}, hintError{fmt.Errorf("credentials file: %w", err), hint}
	}
	shared, err := awsconfig.LoadSharedConfigProfile(ctx, g.profile, func(o *awsconfig.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{g.credentials}
		o.ConfigFiles = []string{}
	})
	if err != nil {
		return aws.Config{}, hintError{fmt.Errorf("profile %q in %s: %w", g.profile, g.credentials, err), "pass --profile with a profile the file defines"}
	}
	c := shared.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Config{}, hintError{fmt.Errorf("profile %q in %s has no access key", g.profile, g.credentials), "the file needs aws_access_key_id and aws_secret_access_key"}
	}
	return aws.Config{
		Region:           g.region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		RetryMaxAttempts: 2,
	}, nil
}

// envOr returns the first non-empty environment variable of names, else def.
func envOr(def string, names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return def
}
