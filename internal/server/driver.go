package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
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
func selectDriver(cfg config.Config, network sandbox.NetworkProvider, logger *slog.Logger) (sandbox.Driver, error) {
	opts := DriverOptions(cfg)
	opts.Network = network
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

// egress starts the egress manager that gives isolating drivers PUBLIC and allowlist
// networks, or returns nil when no driver here can use one (the process driver, or a
// server without root). It is closed after the session manager, which stops every sandbox.
func (s *Server) egress(ctx context.Context, cfg config.Config, logger *slog.Logger) (sandbox.NetworkProvider, error) {
	if cfg.Sandbox.Driver == "process" || os.Geteuid() != 0 {
		return nil, nil
	}
	subnet, err := netip.ParsePrefix(cfg.Sandbox.Egress.Subnet)
	if err != nil {
		return nil, fmt.Errorf("sandbox.egress.subnet: %w", err)
	}
	m, err := egress.New(ctx, egress.Config{Subnet: subnet, Tag: cfg.Sandbox.Egress.Tag, PoolSize: cfg.Sandbox.Egress.PoolSize}, logger.With("component", "egress"))
	if err != nil {
		return nil, fmt.Errorf("sandbox egress: %w", err)
	}
	s.closers = append(s.closers, m.Close)
	return m.Provider(), nil
}

func joinReasons(errs []error) string {
	if len(errs) == 0 {
		return ""
	}
	return ": " + errors.Join(errs...).Error()
}
