// Package config is Berth's server configuration: a versioned YAML file (optional), every key
// of which also has an environment variable and a command-line flag. Precedence, lowest to
// highest: defaults, file, environment, flags. Validate reports every problem at once.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// CurrentVersion is the config file format version this build writes and reads.
const CurrentVersion = 1

// Config is the server configuration.
type Config struct {
	Version   int       `yaml:"version"`
	Listen    string    `yaml:"listen"`    // host:port of the single listener serving both planes
	DataDir   string    `yaml:"dataDir"`   // database, objects, registry, caches, credentials
	Region    string    `yaml:"region"`    // appears in every ARN and SigV4 credential scope
	AccountID string    `yaml:"accountId"` // twelve digits, appears in every ARN
	PublicURL string    `yaml:"publicUrl"` // how clients reach the server (default http://{listen})
	Log       Log       `yaml:"log"`
	Artifacts Artifacts `yaml:"artifacts"`
	Sandbox   Sandbox   `yaml:"sandbox"`
	Sessions  Sessions  `yaml:"sessions"`
	Metering  Metering  `yaml:"metering"`
	Telemetry Telemetry `yaml:"telemetry"`
	Logs      Logs      `yaml:"logs"`
}

// Metering configures the usage meter (internal/metering) and the prices of the cost
// column of GET /berth/v1/usage.
type Metering struct {
	Interval             time.Duration `yaml:"interval"`             // how often live sessions' usage is read
	CPUPricePerVCPUHour  float64       `yaml:"cpuPricePerVcpuHour"`  // US dollars
	MemoryPricePerGBHour float64       `yaml:"memoryPricePerGbHour"` // US dollars, 1 GB = 1 GiB
}

// Telemetry configures metrics, traces and the export of both (and of agent logs) over OTLP.
type Telemetry struct {
	// Metrics serves Prometheus metrics at GET /metrics, unauthenticated (scrapers do not
	// sign requests): names, counts and runtime ids, no payloads or secrets.
	Metrics bool `yaml:"metrics"`
	// OTLPEndpoint is the base URL of an OTLP/HTTP receiver (e.g. http://collector:4318):
	// traces go to {OTLPEndpoint}/v1/traces, metrics to /v1/metrics, agent logs to
	// /v1/logs. "" exports nothing; Berth still keeps recent traces itself.
	OTLPEndpoint string `yaml:"otlpEndpoint"`
	// OTLPHeaders are sent with every OTLP export ("key=value", as OTEL_EXPORTER_OTLP_HEADERS).
	OTLPHeaders []string `yaml:"otlpHeaders"`
	// TraceRetention bounds the traces Berth keeps in its data dir for `berth traces`:
	// spans older than this are dropped.
	TraceRetention time.Duration `yaml:"traceRetention"`
	// TraceMaxSpans bounds the kept spans; the oldest go first. 0 keeps none.
	TraceMaxSpans int `yaml:"traceMaxSpans"`
	// AgentOTLP serves an OTLP/HTTP endpoint inside every sandbox (127.0.0.1:4318, set as
	// OTEL_EXPORTER_OTLP_ENDPOINT for the agent) whose spans and logs join the server's.
	AgentOTLP bool `yaml:"agentOtlp"`
}

// Logs bounds the agent output (stdout and stderr, timestamped) kept per session.
type Logs struct {
	// MaxBytesPerSession caps one session's kept output; older lines are dropped first.
	MaxBytesPerSession int64 `yaml:"maxBytesPerSession"`
	// MaxAge removes a session's output this long after the session ended.
	MaxAge time.Duration `yaml:"maxAge"`
	// MaxTotalBytes caps all kept output; the logs of the longest-ended sessions go first.
	MaxTotalBytes int64 `yaml:"maxTotalBytes"`
}

// Sandbox selects and sizes the isolation driver.
type Sandbox struct {
	// Driver is "auto" (the strongest isolating driver this host supports) or a driver name
	// ("process" runs agents without isolation: development only).
	Driver      string  `yaml:"driver"`
	CPUs        float64 `yaml:"cpus"`        // per session
	MemoryBytes int64   `yaml:"memoryBytes"` // per session
	// AllowTCG lets the microvm driver run without KVM, under QEMU's software CPU: slow,
	// for hosts without hardware virtualisation and for CI.
	AllowTCG bool `yaml:"allowTCG"`
	// Egress configures the networks of sandboxes whose runtime asks for PUBLIC or an
	// allowlist (drivers that isolate the network).
	Egress Egress `yaml:"egress"`
}

// Egress configures sandbox egress. One server per host normally uses the defaults; several
// on one host (tests, benchmarks) each need their own Tag and Subnet.
type Egress struct {
	// Subnet holds one /30 per PUBLIC sandbox (veth pair); it must be unused on the host.
	Subnet string `yaml:"subnet"`
	// Tag names this server's nftables table and veths: up to 4 lowercase letters or digits.
	Tag string `yaml:"tag"`
	// PoolSize is how many PUBLIC namespaces are kept ready; 0 = the default, negative = none.
	PoolSize int `yaml:"poolSize"`
}

// Sessions bounds runtime sessions.
type Sessions struct {
	MaxSessions  int           `yaml:"maxSessions"`  // live sessions on this server; 0 = unlimited
	InitTimeout  time.Duration `yaml:"initTimeout"`  // agent must answer /ping within this of start
	PingInterval time.Duration `yaml:"pingInterval"` // health polling of live sessions
	// PoolSize is how many started, healthy, never-used sandboxes each endpoint's current
	// version keeps for new sessions; 0 disables warm pools.
	PoolSize int `yaml:"poolSize"`
	// PoolMemoryBytes bounds the memory limits (sandbox.memoryBytes each) of all pooled
	// sandboxes together; pooled sandboxes also count against maxSessions.
	PoolMemoryBytes int64 `yaml:"poolMemoryBytes"`
	// PoolIdle empties a pool no session has started from for this long.
	PoolIdle time.Duration `yaml:"poolIdle"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Artifacts configures where artifacts come from and how they are prepared.
type Artifacts struct {
	PrepareWorkers     int           `yaml:"prepareWorkers"`
	PrepareTimeout     time.Duration `yaml:"prepareTimeout"`
	MaxZipBytes        int64         `yaml:"maxZipBytes"`
	MaxUnzippedBytes   int64         `yaml:"maxUnzippedBytes"`
	InsecureRegistries []string      `yaml:"insecureRegistries"` // hosts reached over plain HTTP
	GCGrace            time.Duration `yaml:"gcGrace"`            // prepared trees unused this long may be removed
	ExternalS3         ExternalS3    `yaml:"externalS3"`
}

// ExternalS3 optionally resolves code buckets against an S3-compatible endpoint instead of
// the built-in object store.
type ExternalS3 struct {
	Endpoint        string   `yaml:"endpoint"`
	Region          string   `yaml:"region"`
	AccessKeyID     string   `yaml:"accessKeyId"`
	SecretAccessKey string   `yaml:"secretAccessKey"`
	PathStyle       bool     `yaml:"pathStyle"`
	Buckets         []string `yaml:"buckets"` // empty: every bucket resolves externally
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Version:   CurrentVersion,
		Listen:    "127.0.0.1:8787",
		DataDir:   DefaultDataDir(),
		Region:    "us-east-1",
		AccountID: "000000000000",
		Log:       Log{Level: "info", Format: "json"},
		Artifacts: Artifacts{
			PrepareWorkers:   2,
			PrepareTimeout:   10 * time.Minute,
			MaxZipBytes:      250 << 20,
			MaxUnzippedBytes: 750 << 20,
			GCGrace:          time.Hour,
		},
		Sandbox: Sandbox{Driver: "auto", CPUs: 2, MemoryBytes: 8 << 30, Egress: Egress{Subnet: "10.231.0.0/16"}},
		Sessions: Sessions{
			MaxSessions: 1000, InitTimeout: 60 * time.Second, PingInterval: 2 * time.Second,
			// Two pooled sandboxes at the default memory limit of 8 GiB.
			PoolSize: 1, PoolMemoryBytes: 16 << 30, PoolIdle: 10 * time.Minute,
		},
		// AgentCore Runtime's list prices (AGENTCORE-WIRE.md §7.4).
		Metering:  Metering{Interval: time.Second, CPUPricePerVCPUHour: 0.0895, MemoryPricePerGBHour: 0.00945},
		Telemetry: Telemetry{Metrics: true, TraceRetention: 24 * time.Hour, TraceMaxSpans: 100_000, AgentOTLP: true},
		Logs:      Logs{MaxBytesPerSession: 16 << 20, MaxAge: 7 * 24 * time.Hour, MaxTotalBytes: 1 << 30},
	}
}

// DefaultDataDir is /var/lib/berth for root, else $XDG_DATA_HOME/berth or
// ~/.local/share/berth.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/berth"
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "berth")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "berth")
	}
	return "berth-data"
}

// BaseURL returns the URL clients use to reach the server.
func (c Config) BaseURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return "http://" + c.Listen
}

// SessionLogDir holds each session's agent output.
func (c Config) SessionLogDir() string { return filepath.Join(c.DataDir, "sessions") }

// CredentialsPath is where the admin credentials are written.
func (c Config) CredentialsPath() string { return filepath.Join(c.DataDir, "credentials") }

// String renders a one-line summary for logs (no secrets).
func (c Config) String() string {
	return fmt.Sprintf("listen=%s data-dir=%s region=%s account=%s", c.Listen, c.DataDir, c.Region, c.AccountID)
}
