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
	"github.com/spf13/pflag"

	"berth.dev/berth/internal/client"
)

// Defaults of the user commands' global flags.
const (
	defaultEndpoint    = "http://127.0.0.1:8787"
	defaultCredentials = "/var/lib/berth/credentials" //nolint:gosec // a path, not a secret
	defaultRegion      = "us-east-1"
	defaultProfile     = "default"
)

// globals are the flags every user command takes: which server, which access key, which
// output format. They are persistent flags of the root command, so they may come before or
// after the subcommand. Each setting is resolved once, on first use, in this order: the
// flag, BERTH_* environment variables, the selected profile of the CLI config file
// (profiles.go), AWS_* environment variables where they apply, the default. --local
// replaces endpoint, credentials and region with those of the project's local server.
type globals struct {
	endpoint    string
	credentials string
	profile     string
	region      string
	output      string
	local       bool

	flags    *pflag.FlagSet // where the flags live, to tell given flags from defaults
	resolved bool
	// credentialsProfile is the profile inside the credentials file.
	credentialsProfile string
}

// register adds the global flags to cmd (the root) as persistent flags.
func (g *globals) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.endpoint, "endpoint", defaultEndpoint, "Berth server URL (env BERTH_ENDPOINT)")
	f.StringVar(&g.credentials, "credentials", defaultCredentials,
		"shared credentials file holding the access key (env BERTH_CREDENTIALS, then AWS_SHARED_CREDENTIALS_FILE)")
	f.StringVar(&g.profile, "profile", defaultProfile, "profile of the CLI config file, else of the credentials file (env BERTH_PROFILE)")
	f.StringVar(&g.region, "region", defaultRegion, "region the server signs for (env BERTH_REGION, then AWS_REGION)")
	f.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	f.BoolVar(&g.local, "local", false, "talk to the project's local server ('berth deploy --local' starts it)")
	g.flags = f
}

// given reports whether the flag called name was set on the command line.
func (g *globals) given(name string) bool {
	if g.flags == nil {
		return false
	}
	fl := g.flags.Lookup(name)
	return fl != nil && fl.Changed
}

// resolve settles endpoint, credentials, profile and region from flags, environment, the
// CLI config file and --local, in that order of precedence.
func (g *globals) resolve() error {
	if g.resolved {
		return nil
	}
	if err := g.resolveWithoutLocal(); err != nil {
		return err
	}
	if g.local {
		if g.given("endpoint") {
			return hintError{errors.New("give --local or --endpoint, not both"), "--local talks to the project's own server"}
		}
		ls, err := runningLocal()
		if err != nil {
			return err
		}
		g.useLocal(ls)
	}
	g.resolved = true
	return nil
}

// resolveWithoutLocal settles the settings from flags, environment and the CLI config file,
// ignoring --local.
func (g *globals) resolveWithoutLocal() error {
	if !g.given("profile") {
		g.profile = envOr(defaultProfile, "BERTH_PROFILE")
	}
	prof, found, err := loadProfile(g.profile)
	if err != nil {
		return err
	}
	g.credentialsProfile = g.profile
	if found {
		g.credentialsProfile = prof.CredentialsProfile
		if g.credentialsProfile == "" {
			g.credentialsProfile = defaultProfile
		}
	}
	pick := func(flag string, cur *string, berthEnv, fromProfile, awsEnv, def string) {
		switch {
		case g.given(flag):
		case os.Getenv(berthEnv) != "":
			*cur = os.Getenv(berthEnv)
		case fromProfile != "":
			*cur = fromProfile
		case awsEnv != "" && os.Getenv(awsEnv) != "":
			*cur = os.Getenv(awsEnv)
		default:
			*cur = def
		}
	}
	pick("endpoint", &g.endpoint, "BERTH_ENDPOINT", prof.Endpoint, "", defaultEndpoint)
	pick("credentials", &g.credentials, "BERTH_CREDENTIALS", expandHome(prof.Credentials), "AWS_SHARED_CREDENTIALS_FILE", defaultCredentials)
	pick("region", &g.region, "BERTH_REGION", prof.Region, "AWS_REGION", defaultRegion)
	return nil
}

// useLocal points the globals at a local server.
func (g *globals) useLocal(ls localServer) {
	g.endpoint, g.credentials, g.region, g.credentialsProfile = ls.Endpoint, ls.Credentials, ls.Region, defaultProfile
	g.resolved = true
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
	if err := g.resolve(); err != nil {
		return aws.Config{}, err
	}
	if _, err := os.Stat(g.credentials); err != nil {
		hint := "start a server with 'berth server' (it writes <data-dir>/credentials), or pass --credentials / set BERTH_CREDENTIALS"
		if errors.Is(err, fs.ErrPermission) {
			hint = "the credentials file is readable by its owner only; run as that user or copy the file"
		}
		return aws.Config{}, hintError{fmt.Errorf("credentials file: %w", err), hint}
	}
	shared, err := awsconfig.LoadSharedConfigProfile(ctx, g.credentialsProfile, func(o *awsconfig.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{g.credentials}
		o.ConfigFiles = []string{}
	})
	if err != nil {
		return aws.Config{}, hintError{fmt.Errorf("profile %q in %s: %w", g.credentialsProfile, g.credentials, err), "pass --profile with a profile the file defines"}
	}
	c := shared.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Config{}, hintError{fmt.Errorf("profile %q in %s has no access key", g.credentialsProfile, g.credentials), "the file needs aws_access_key_id and aws_secret_access_key"}
	}
	return aws.Config{
		Region:           g.region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		RetryMaxAttempts: 2,
		HTTPClient:       client.SDKHTTPClient(),
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
