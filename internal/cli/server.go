package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/server"
)

func newServerCmd(stdout, stderr io.Writer) *cobra.Command {
	var configPath string
	settings := config.Settings()
	defaults := config.Default()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Berth server (control plane, data plane, object store and registry)",
		Long: `Run the Berth server. It needs no config file: it creates its data directory, an admin
access key (written to <data-dir>/credentials for the AWS SDKs and CLI), and listens on
127.0.0.1:8787 by default.

Every setting can come from the YAML config file (--config), an environment variable or a
flag; flags win over the environment, which wins over the file.`,
		Example: `  berth server --sandbox process
  berth server --sandbox process --listen 0.0.0.0:8787 --data-dir /srv/berth
  BERTH_REGION=eu-west-1 berth server --config /etc/berth/berth.yaml

  # then, from another shell:
  export AWS_SHARED_CREDENTIALS_FILE=/var/lib/berth/credentials AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  aws bedrock-agentcore-control list-agent-runtimes --endpoint-url http://127.0.0.1:8787

--sandbox auto (the default) picks the strongest isolating driver this host supports and
refuses to run agents without isolation; --sandbox process runs them as plain processes
(each in its own network namespace, nothing else isolated): development only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath, os.Getenv)
			if err != nil {
				return err
			}
			for _, s := range settings {
				if f := cmd.Flags().Lookup(s.Flag); f != nil && f.Changed {
					if err := s.Set(&cfg, f.Value.String()); err != nil {
						return fmt.Errorf("flag --%s: %w", s.Flag, err)
					}
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			logger := newLogger(stderr, cfg.Log)
			srv, err := server.New(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Berth %s listening on http://%s\n", Version, srv.Addr())
			fmt.Fprintf(stdout, "Admin credentials: %s (profile default; region %s)\n", cfg.CredentialsPath(), cfg.Region)
			fmt.Fprintf(stdout, "  export AWS_SHARED_CREDENTIALS_FILE=%s AWS_REGION=%s AWS_ENDPOINT_URL=%s\n",
				cfg.CredentialsPath(), cfg.Region, cfg.BaseURL())
			return srv.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", os.Getenv("BERTH_CONFIG"), "YAML config file (env BERTH_CONFIG)")
	for _, s := range settings {
		cmd.Flags().String(s.Flag, s.Get(&defaults), fmt.Sprintf("%s (env %s, config key %s)", s.Usage, s.Env, s.Key))
	}
	return cmd
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
