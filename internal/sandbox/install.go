package sandbox

import (
	"context"
	"io"
)

// Installer is implemented by drivers that need software from the host's package manager
// or artifacts built once per host (a guest kernel, root filesystems). `berth setup` uses
// it; `berth doctor` lists Packages with Driver.Available.
type Installer interface {
	// Packages lists the Debian packages the driver needs on this host.
	Packages() []string
	// Install builds what the driver needs under its state directory, once the packages
	// are installed. It is idempotent and writes human-readable progress lines to w.
	Install(ctx context.Context, w io.Writer) error
}
