package sandbox

import (
	"fmt"
	"slices"
	"sync"
)

// Factory builds a driver from its options.
type Factory func(opts Options) (Driver, error)

// Options configure every driver; drivers read what they need.
type Options struct {
	// StateDir is a directory the driver owns for per-sandbox state (working dirs, overlays).
	StateDir string
	// DefaultLimits apply where a Spec leaves Limits zero.
	DefaultLimits Limits
	// Network, if not nil, prepares sandbox networks for egress policies other than
	// NetworkNone (drivers that support it).
	Network NetworkProvider
	// AllowTCG lets the microvm driver run guests on QEMU's software CPU when KVM is not
	// usable (config sandbox.allowTCG): 10–100× slower, meant for tests.
	AllowTCG bool
}

var (
	regMu     sync.Mutex
	factories = map[string]Factory{}
)

// Register makes a driver available by name. It panics on an empty name, a nil factory or
// a duplicate, so mistakes fail at start-up. Call it from init.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if name == "" || f == nil {
		panic("sandbox: Register with an empty name or nil factory")
	}
	if _, dup := factories[name]; dup {
		panic("sandbox: driver " + name + " registered twice")
	}
	factories[name] = f
}

// New builds the named driver.
func New(name string, opts Options) (Driver, error) {
	regMu.Lock()
	f, ok := factories[name]
	regMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown sandbox driver %q (compiled in: %v)", name, Names())
	}
	return f(opts)
}

// Names lists the registered drivers, sorted.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]string, 0, len(factories))
	for n := range factories {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
