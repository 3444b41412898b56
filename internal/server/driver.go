package server

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/sandbox"
)

// AutoDrivers lists the drivers "auto" may pick, strongest first. microvm counts only
// where it can use KVM (it reports itself unavailable otherwise, unless TCG is allowed).
var AutoDrivers = []string{"microvm", "linuxns", "gvisor"}

// DriverOptions are the options every sandbox driver is built with under cfg.
func DriverOptions(cfg config.Config) sandbox.Options {
	return sandbox.Options{
		StateDir:      filepath.Join(cfg.DataDir, "sandboxes"),
		DefaultLimits: sandbox.Limits{CPUs: cfg.Sandbox.CPUs, MemoryBytes: cfg.Sandbox.MemoryBytes},
		AllowTCG:      cfg.Sandbox.AllowTCG,
	}
}

// selectDriver builds the configured sandbox driver. "auto" picks the strongest isolating
// driver that is compiled in and available on this host, and refuses to fall back to the
// unisolated process driver on its own.
func selectDriver(cfg config.Config, logger *slog.Logger) (sandbox.Driver, error) {
	opts := DriverOptions(cfg)
	name := cfg.Sandbox.Driver
	if name == "auto" {
		var why []error
		for _, n := range AutoDrivers {
			if !slices.Contains(sandbox.Names(), n) {
				continue
			}
			d, err := sandbox.New(n, opts)
			if err == nil {
				err = d.Available()
			}
			if err == nil {
				logger.Info("sandbox driver selected", "driver", n, "isolation", d.Capabilities().Isolation)
				return d, nil
			}
			why = append(why, fmt.Errorf("%s: %w", n, err))
		}
		return nil, fmt.Errorf("no isolating sandbox driver can run on this host (compiled in: %v)%s\n"+
			"  to run agents without isolation for development, use --sandbox process",
			sandbox.Names(), joinReasons(why))
	}
	d, err := sandbox.New(name, opts)
	if err != nil {
		return nil, err
	}
	if err := d.Available(); err != nil {
		return nil, fmt.Errorf("sandbox driver %s cannot run here: %w", name, err)
	}
	if d.Capabilities().Isolation == "none" {
		logger.Warn("SANDBOX DRIVER " + name + " PROVIDES NO ISOLATION: agents run as plain processes on this host with the server's privileges. Use it for development only.")
	}
	return d, nil
}

func joinReasons(errs []error) string {
	if len(errs) == 0 {
		return ""
	}
	return ": " + errors.Join(errs...).Error()
}
