package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Setting is one configuration key with its file path, environment variable and flag.
type Setting struct {
	Key   string // dotted YAML path, e.g. "artifacts.prepareTimeout"
	Env   string // BERTH_…
	Flag  string // --…
	Usage string
	get   func(*Config) string
	set   func(*Config, string) error
}

// Get renders the current value.
func (s Setting) Get(c *Config) string { return s.get(c) }

// Set parses and stores v.
func (s Setting) Set(c *Config, v string) error {
	if err := s.set(c, v); err != nil {
		return fmt.Errorf("%s: %w", s.Key, err)
	}
	return nil
}

func str(p func(*Config) *string) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return *p(c) }, func(c *Config, v string) error { *p(c) = v; return nil }
}

func integer(p func(*Config) *int) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return strconv.Itoa(*p(c)) }, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*p(c) = n
		return nil
	}
}

func bytesize(p func(*Config) *int64) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return strconv.FormatInt(*p(c), 10) }, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a byte count", v)
		}
		*p(c) = n
		return nil
	}
}

func duration(p func(*Config) *time.Duration) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return p(c).String() }, func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (like 90s or 10m)", v)
		}
		*p(c) = d
		return nil
	}
}

func float(p func(*Config) *float64) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return strconv.FormatFloat(*p(c), 'f', -1, 64) }, func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*p(c) = f
		return nil
	}
}

func boolean(p func(*Config) *bool) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return strconv.FormatBool(*p(c)) }, func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p(c) = b
		return nil
	}
}

func list(p func(*Config) *[]string) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return strings.Join(*p(c), ",") }, func(c *Config, v string) error {
		*p(c) = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*p(c) = append(*p(c), s)
			}
		}
		return nil
	}
}

func setting(key, env, flag, usage string, gs func() (func(*Config) string, func(*Config, string) error)) Setting {
	g, s := gs()
	return Setting{Key: key, Env: env, Flag: flag, Usage: usage, get: g, set: s}
}

// Settings lists every configuration key. Each has a flag and an environment variable.
func Settings() []Setting {
	return []Setting{
		setting("listen", "BERTH_LISTEN", "listen", "address to listen on (host:port)", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Listen })
		}),
		setting("dataDir", "BERTH_DATA_DIR", "data-dir", "directory for the database, artifacts and credentials", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.DataDir })
		}),
		setting("region", "BERTH_REGION", "region", "region in ARNs and SigV4 credential scopes", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Region })
		}),
		setting("accountId", "BERTH_ACCOUNT_ID", "account-id", "twelve-digit account id in ARNs", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.AccountID })
		}),
		setting("publicUrl", "BERTH_PUBLIC_URL", "public-url", "URL clients use to reach this server (default http://{listen})", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.PublicURL })
		}),
		setting("log.level", "BERTH_LOG_LEVEL", "log-level", "log level: debug, info, warn, error", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Log.Level })
		}),
		setting("log.format", "BERTH_LOG_FORMAT", "log-format", "log format: text or json", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Log.Format })
		}),
		setting("artifacts.prepareWorkers", "BERTH_PREPARE_WORKERS", "prepare-workers", "artifacts prepared concurrently", func() (func(*Config) string, func(*Config, string) error) {
			return integer(func(c *Config) *int { return &c.Artifacts.PrepareWorkers })
		}),
		setting("artifacts.prepareTimeout", "BERTH_PREPARE_TIMEOUT", "prepare-timeout", "time limit to fetch and prepare one artifact", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Artifacts.PrepareTimeout })
		}),
		setting("artifacts.maxZipBytes", "BERTH_MAX_ZIP_BYTES", "max-zip-bytes", "largest code zip accepted (compressed bytes)", func() (func(*Config) string, func(*Config, string) error) {
			return bytesize(func(c *Config) *int64 { return &c.Artifacts.MaxZipBytes })
		}),
		setting("artifacts.maxUnzippedBytes", "BERTH_MAX_UNZIPPED_BYTES", "max-unzipped-bytes", "largest code zip accepted (uncompressed bytes)", func() (func(*Config) string, func(*Config, string) error) {
			return bytesize(func(c *Config) *int64 { return &c.Artifacts.MaxUnzippedBytes })
		}),
		setting("artifacts.insecureRegistries", "BERTH_INSECURE_REGISTRIES", "insecure-registries", "comma-separated registry hosts reached over plain HTTP", func() (func(*Config) string, func(*Config, string) error) {
			return list(func(c *Config) *[]string { return &c.Artifacts.InsecureRegistries })
		}),
		setting("artifacts.gcGrace", "BERTH_GC_GRACE", "gc-grace", "keep prepared artifacts no version needs for at least this long", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Artifacts.GCGrace })
		}),
		setting("artifacts.externalS3.endpoint", "BERTH_EXTERNAL_S3_ENDPOINT", "external-s3-endpoint", "S3-compatible endpoint for code buckets (default: the built-in store)", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Artifacts.ExternalS3.Endpoint })
		}),
		setting("artifacts.externalS3.region", "BERTH_EXTERNAL_S3_REGION", "external-s3-region", "region of the external S3 endpoint", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Artifacts.ExternalS3.Region })
		}),
		setting("artifacts.externalS3.accessKeyId", "BERTH_EXTERNAL_S3_ACCESS_KEY_ID", "external-s3-access-key-id", "access key id for the external S3 endpoint", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Artifacts.ExternalS3.AccessKeyID })
		}),
		setting("artifacts.externalS3.secretAccessKey", "BERTH_EXTERNAL_S3_SECRET_ACCESS_KEY", "external-s3-secret-access-key", "secret for the external S3 endpoint (prefer the env var)", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Artifacts.ExternalS3.SecretAccessKey })
		}),
		setting("artifacts.externalS3.pathStyle", "BERTH_EXTERNAL_S3_PATH_STYLE", "external-s3-path-style", "use path-style addressing for the external S3 endpoint", func() (func(*Config) string, func(*Config, string) error) {
			return boolean(func(c *Config) *bool { return &c.Artifacts.ExternalS3.PathStyle })
		}),
		setting("artifacts.externalS3.buckets", "BERTH_EXTERNAL_S3_BUCKETS", "external-s3-buckets", "comma-separated buckets resolved externally (empty: all)", func() (func(*Config) string, func(*Config, string) error) {
			return list(func(c *Config) *[]string { return &c.Artifacts.ExternalS3.Buckets })
		}),
		setting("sandbox.driver", "BERTH_SANDBOX", "sandbox", "sandbox driver: auto, or a driver name (process = no isolation, development only)", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Sandbox.Driver })
		}),
		setting("sandbox.cpus", "BERTH_SANDBOX_CPUS", "sandbox-cpus", "CPU cores per session", func() (func(*Config) string, func(*Config, string) error) {
			return float(func(c *Config) *float64 { return &c.Sandbox.CPUs })
		}),
		setting("sandbox.memoryBytes", "BERTH_SANDBOX_MEMORY_BYTES", "sandbox-memory-bytes", "memory per session, bytes", func() (func(*Config) string, func(*Config, string) error) {
			return bytesize(func(c *Config) *int64 { return &c.Sandbox.MemoryBytes })
		}),
		setting("sandbox.allowTCG", "BERTH_ALLOW_TCG", "allow-tcg", "let the microvm driver run without KVM under QEMU's software CPU (slow; CI and hosts without KVM)", func() (func(*Config) string, func(*Config, string) error) {
			return boolean(func(c *Config) *bool { return &c.Sandbox.AllowTCG })
		}),
		setting("sandbox.egress.subnet", "BERTH_EGRESS_SUBNET", "egress-subnet", "IPv4 range for the veth pairs of PUBLIC sandboxes (one /30 each); must be unused on the host", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Sandbox.Egress.Subnet })
		}),
		setting("sandbox.egress.tag", "BERTH_EGRESS_TAG", "egress-tag", "names this server's nftables table and veths; set it when several servers share a host", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Sandbox.Egress.Tag })
		}),
		setting("sandbox.egress.poolSize", "BERTH_EGRESS_POOL_SIZE", "egress-pool-size", "PUBLIC network namespaces kept ready (0 = default, negative = none)", func() (func(*Config) string, func(*Config, string) error) {
			return integer(func(c *Config) *int { return &c.Sandbox.Egress.PoolSize })
		}),
		setting("sessions.maxSessions", "BERTH_MAX_SESSIONS", "max-sessions", "live sessions on this server (0 = unlimited)", func() (func(*Config) string, func(*Config, string) error) {
			return integer(func(c *Config) *int { return &c.Sessions.MaxSessions })
		}),
		setting("sessions.initTimeout", "BERTH_INIT_TIMEOUT", "init-timeout", "time for a new agent to answer /ping", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Sessions.InitTimeout })
		}),
		setting("sessions.pingInterval", "BERTH_PING_INTERVAL", "ping-interval", "how often live agents are health-checked", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Sessions.PingInterval })
		}),
		setting("sessions.poolSize", "BERTH_POOL_SIZE", "pool-size", "pre-started sandboxes kept per endpoint version for new sessions (0 = no warm pools)", func() (func(*Config) string, func(*Config, string) error) {
			return integer(func(c *Config) *int { return &c.Sessions.PoolSize })
		}),
		setting("sessions.poolMemoryBytes", "BERTH_POOL_MEMORY_BYTES", "pool-memory-bytes", "bound on the memory limits of all pre-started sandboxes together, bytes", func() (func(*Config) string, func(*Config, string) error) {
			return bytesize(func(c *Config) *int64 { return &c.Sessions.PoolMemoryBytes })
		}),
		setting("sessions.poolIdle", "BERTH_POOL_IDLE", "pool-idle", "empty a warm pool no session has used for this long", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Sessions.PoolIdle })
		}),
		setting("metering.interval", "BERTH_METERING_INTERVAL", "metering-interval", "how often live sessions' CPU and memory are read for billing", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Metering.Interval })
		}),
		setting("metering.cpuPricePerVcpuHour", "BERTH_CPU_PRICE_PER_VCPU_HOUR", "cpu-price-per-vcpu-hour", "US dollars per vCPU-hour in usage reports", func() (func(*Config) string, func(*Config, string) error) {
			return float(func(c *Config) *float64 { return &c.Metering.CPUPricePerVCPUHour })
		}),
		setting("metering.memoryPricePerGbHour", "BERTH_MEMORY_PRICE_PER_GB_HOUR", "memory-price-per-gb-hour", "US dollars per GB-hour of memory in usage reports", func() (func(*Config) string, func(*Config, string) error) {
			return float(func(c *Config) *float64 { return &c.Metering.MemoryPricePerGBHour })
		}),
		setting("telemetry.metrics", "BERTH_METRICS", "metrics", "serve Prometheus metrics at /metrics (unauthenticated)", func() (func(*Config) string, func(*Config, string) error) {
			return boolean(func(c *Config) *bool { return &c.Telemetry.Metrics })
		}),
		setting("telemetry.otlpEndpoint", "BERTH_OTLP_ENDPOINT", "otlp-endpoint", "OTLP/HTTP receiver base URL for traces, metrics and agent logs (\"\" = no export)", func() (func(*Config) string, func(*Config, string) error) {
			return str(func(c *Config) *string { return &c.Telemetry.OTLPEndpoint })
		}),
		setting("telemetry.otlpHeaders", "BERTH_OTLP_HEADERS", "otlp-headers", "comma-separated key=value headers sent with every OTLP export", func() (func(*Config) string, func(*Config, string) error) {
			return list(func(c *Config) *[]string { return &c.Telemetry.OTLPHeaders })
		}),
		setting("telemetry.traceRetention", "BERTH_TRACE_RETENTION", "trace-retention", "how long Berth keeps spans for `berth traces`", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Telemetry.TraceRetention })
		}),
		setting("telemetry.traceMaxSpans", "BERTH_TRACE_MAX_SPANS", "trace-max-spans", "spans Berth keeps for `berth traces` (oldest dropped first; 0 = none)", func() (func(*Config) string, func(*Config, string) error) {
			return integer(func(c *Config) *int { return &c.Telemetry.TraceMaxSpans })
		}),
		setting("telemetry.agentOtlp", "BERTH_AGENT_OTLP", "agent-otlp", "serve an OTLP/HTTP endpoint inside each sandbox for the agent's spans and logs", func() (func(*Config) string, func(*Config, string) error) {
			return boolean(func(c *Config) *bool { return &c.Telemetry.AgentOTLP })
		}),
		setting("logs.maxBytesPerSession", "BERTH_LOGS_MAX_BYTES_PER_SESSION", "logs-max-bytes-per-session", "agent output kept per session, bytes (oldest lines dropped first)", func() (func(*Config) string, func(*Config, string) error) {
			return bytesize(func(c *Config) *int64 { return &c.Logs.MaxBytesPerSession })
		}),
		setting("logs.maxAge", "BERTH_LOGS_MAX_AGE", "logs-max-age", "remove a session's output this long after it ended", func() (func(*Config) string, func(*Config, string) error) {
			return duration(func(c *Config) *time.Duration { return &c.Logs.MaxAge })
		}),
		setting("logs.maxTotalBytes", "BERTH_LOGS_MAX_TOTAL_BYTES", "logs-max-total-bytes", "agent output kept for all sessions, bytes (longest-ended sessions dropped first)", func() (func(*Config) string, func(*Config, string) error) {
			return bytesize(func(c *Config) *int64 { return &c.Logs.MaxTotalBytes })
		}),
	}
}
