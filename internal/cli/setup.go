package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/server"
	"berth.dev/berth/internal/setup"
)

// hostFlags are the flags setup and doctor share: where the data lives, which drivers.
type hostFlags struct {
	configPath string
	dataDir    string
	drivers    []string
}

func (h *hostFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.configPath, "config", os.Getenv("BERTH_CONFIG"), "YAML config file (env BERTH_CONFIG)")
	cmd.Flags().StringVar(&h.dataDir, "data-dir", "", "data directory (default: the server's, env BERTH_DATA_DIR)")
	cmd.Flags().StringSliceVar(&h.drivers, "driver", nil, "sandbox drivers to look at (default: every compiled-in driver)")
}

func (h *hostFlags) options() (setup.Options, error) {
	cfg, err := config.Load(h.configPath, os.Getenv)
	if err != nil {
		return setup.Options{}, err
	}
	if h.dataDir != "" {
		cfg.DataDir = h.dataDir
	}
	return setup.Options{Drivers: h.drivers, Driver: server.DriverOptions(cfg)}, nil
}

func newSetupCmd(stdout io.Writer) *cobra.Command {
	var h hostFlags
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install and build what the sandbox drivers need on this host",
		Long: `Install the Debian packages the sandbox drivers need (apt-get, as root) and build their
artifacts into the data directory: the base root filesystem code zips run on, and for the
drivers that need them gVisor's runsc, a guest kernel and disk images. It is idempotent: a
second run installs and builds nothing. 'berth doctor' reports the result.`,
		Example: `  berth setup
  berth setup --driver linuxns
  berth setup --driver microvm --data-dir /srv/berth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := h.options()
			if err != nil {
				return err
			}
			if err := setup.Setup(cmd.Context(), o, stdout); err != nil {
				return hintError{err: err, hint: "run 'berth doctor' to see what each driver still lacks"}
			}
			r, err := setup.Doctor(cmd.Context(), o, server.AutoDrivers)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout)
			r.Print(stdout)
			return nil
		},
	}
	h.register(cmd)
	return cmd
}

func newDoctorCmd(stdout io.Writer) *cobra.Command {
	var h hostFlags
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Report which sandbox drivers can run on this host and what they lack",
		Long: `Check every compiled-in sandbox driver on this host without changing anything: whether it
can run, why not, which packages it lacks, the egress modes it enforces, and which driver
'berth server --sandbox auto' would pick. Exits non-zero when no isolating driver can run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := h.options()
			if err != nil {
				return err
			}
			r, err := setup.Doctor(cmd.Context(), o, server.AutoDrivers)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			case "table":
				r.Print(stdout)
			default:
				return hintError{err: fmt.Errorf("unknown --output %q", output), hint: "use --output table or --output json"}
			}
			if r.Auto == "" {
				return hintError{err: fmt.Errorf("no isolating sandbox driver can run on this host"), hint: "run 'berth setup' as root"}
			}
			return nil
		},
	}
	h.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}
