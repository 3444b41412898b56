package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"berth.dev/berth/internal/sandbox"
)

// Options select what Setup and Doctor look at.
type Options struct {
	// Drivers are the driver names to prepare; empty means every compiled-in driver.
	Drivers []string
	// Driver are the options every driver is built with (the server's).
	Driver sandbox.Options
	// Packages installs and queries host packages; nil means Apt.
	Packages Packages
}

func (o Options) packages() Packages {
	if o.Packages == nil {
		return Apt{}
	}
	return o.Packages
}

func (o Options) names() ([]string, error) {
	all := sandbox.Names()
	if len(o.Drivers) == 0 {
		return all, nil
	}
	for _, n := range o.Drivers {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("unknown sandbox driver %q (compiled in: %v)", n, all)
		}
	}
	return o.Drivers, nil
}

// Setup installs the packages the selected drivers need and builds their artifacts,
// reporting progress on w. It stops at the first driver whose Install fails, after
// installing every package.
func Setup(ctx context.Context, o Options, w io.Writer) error {
	names, err := o.names()
	if err != nil {
		return err
	}
	var pkgs []string
	for _, n := range names {
		d, err := sandbox.New(n, o.Driver)
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		if in, ok := d.(sandbox.Installer); ok {
			for _, p := range in.Packages() {
				if !slices.Contains(pkgs, p) {
					pkgs = append(pkgs, p)
				}
			}
		}
	}
	step := 0
	total := len(names) + 1
	next := func(what string) { step++; fmt.Fprintf(w, "[%d/%d] %s\n", step, total, what) }

	next("host packages")
	missing, err := o.packages().Missing(ctx, pkgs)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		fmt.Fprintf(w, "      all %d installed\n", len(pkgs))
	} else {
		fmt.Fprintf(w, "      installing %v\n", missing)
		if err := o.packages().Install(ctx, missing, w); err != nil {
			return err
		}
	}
	var errs []error
	for _, n := range names {
		next("driver " + n)
		// Built anew: a driver may look for its packages when it is built.
		d, err := sandbox.New(n, o.Driver)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		if in, ok := d.(sandbox.Installer); ok {
			if err := in.Install(ctx, w); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
				fmt.Fprintf(w, "      failed: %v\n", err)
				continue
			}
		}
		if err := d.Available(); err != nil {
			fmt.Fprintf(w, "      cannot run here: %v\n", err)
		} else {
			fmt.Fprintf(w, "      ready (%s)\n", d.Capabilities().Isolation)
		}
	}
	return errors.Join(errs...)
}
