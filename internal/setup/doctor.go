package setup

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"berth.dev/berth/internal/sandbox"
)

// DriverReport is what Doctor found about one driver.
type DriverReport struct {
	Name      string   `json:"name"`
	Isolation string   `json:"isolation"`
	Ready     bool     `json:"ready"`
	Problem   string   `json:"problem,omitempty"`
	Missing   []string `json:"missingPackages,omitempty"`
	Egress    []string `json:"egress"`
}

// Report is Doctor's answer.
type Report struct {
	Drivers []DriverReport `json:"drivers"`
	// Auto is the driver `--sandbox auto` picks, or "" when none can run.
	Auto string `json:"auto"`
}

// Doctor checks every selected driver on this host without changing anything. auto lists
// the drivers `--sandbox auto` considers, strongest first.
func Doctor(ctx context.Context, o Options, auto []string) (Report, error) {
	names, err := o.names()
	if err != nil {
		return Report{}, err
	}
	var r Report
	for _, n := range names {
		dr := DriverReport{Name: n}
		d, err := sandbox.New(n, o.Driver)
		if err != nil {
			dr.Problem = err.Error()
			r.Drivers = append(r.Drivers, dr)
			continue
		}
		caps := d.Capabilities()
		dr.Isolation = caps.Isolation
		for _, m := range caps.Egress {
			dr.Egress = append(dr.Egress, string(m))
		}
		if in, ok := d.(sandbox.Installer); ok {
			if dr.Missing, err = o.packages().Missing(ctx, in.Packages()); err != nil {
				return Report{}, err
			}
		}
		if err := d.Available(); err != nil {
			dr.Problem = err.Error()
		} else {
			dr.Ready = true
		}
		r.Drivers = append(r.Drivers, dr)
	}
	for _, a := range auto {
		for _, dr := range r.Drivers {
			if dr.Name == a && dr.Ready && r.Auto == "" {
				r.Auto = a
			}
		}
	}
	return r, nil
}

// Print writes r as a table with the problems spelled out below it.
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DRIVER\tISOLATION\tREADY\tEGRESS\tMISSING PACKAGES")
	for _, d := range r.Drivers {
		ready := "yes"
		if !d.Ready {
			ready = "no"
		}
		missing := strings.Join(d.Missing, " ")
		if missing == "" {
			missing = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, d.Isolation, ready, strings.Join(d.Egress, ","), missing)
	}
	_ = tw.Flush()
	for _, d := range r.Drivers {
		if d.Problem != "" {
			fmt.Fprintf(w, "\n%s: %s\n", d.Name, d.Problem)
			if len(d.Missing) > 0 {
				fmt.Fprintf(w, "  fix: berth setup --driver %s   (installs %s)\n", d.Name, strings.Join(d.Missing, " "))
			}
		}
	}
	if r.Auto != "" {
		fmt.Fprintf(w, "\n--sandbox auto picks: %s\n", r.Auto)
	} else {
		fmt.Fprintf(w, "\n--sandbox auto finds no isolating driver that runs here; run 'berth setup', or use --sandbox process for development\n")
	}
}
