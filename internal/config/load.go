package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Load reads the optional file at path (strictly: unknown keys are errors), then applies
// environment variables looked up with getenv. Flags are applied by the caller with
// Setting.Set for the flags the user changed, followed by Validate.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := Parse(raw, &c); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, s := range Settings() {
		if v := getenv(s.Env); v != "" {
			if err := s.Set(&c, v); err != nil {
				return Config{}, fmt.Errorf("environment %s: %w", s.Env, err)
			}
		}
	}
	return c, nil
}

// Parse decodes a config file over c, migrating older versions.
func Parse(raw []byte, c *Config) error {
	var head struct {
		Version int `yaml:"version"`
	}
	if err := yaml.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	switch head.Version {
	case 0:
		return errors.New("missing 'version: 1' at the top of the file")
	case CurrentVersion:
	default:
		return fmt.Errorf("version %d is not supported by this build (it reads version %d)", head.Version, CurrentVersion)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw), yaml.Strict())
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	return nil
}

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

// Validate reports every problem in c at once.
func (c Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen: %q is not host:port", c.Listen)
	}
	if c.DataDir == "" {
		bad("dataDir: must be set")
	}
	if !regionPattern.MatchString(c.Region) {
		bad("region: %q does not look like an AWS region (e.g. us-east-1)", c.Region)
	}
	if !accountPattern.MatchString(c.AccountID) {
		bad("accountId: %q must be twelve digits", c.AccountID)
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		bad("publicUrl: %q must start with http:// or https://", c.PublicURL)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level: %q must be debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format: %q must be text or json", c.Log.Format)
	}
	if c.Artifacts.PrepareWorkers < 1 {
		bad("artifacts.prepareWorkers: must be at least 1")
	}
	if c.Artifacts.GCGrace <= 0 {
		bad("artifacts.gcGrace: must be positive")
	}
	if c.Artifacts.PrepareTimeout <= 0 {
		bad("artifacts.prepareTimeout: must be positive")
	}
	if c.Artifacts.MaxZipBytes <= 0 || c.Artifacts.MaxUnzippedBytes <= 0 {
		bad("artifacts.maxZipBytes and maxUnzippedBytes: must be positive")
	}
	if e := c.Artifacts.ExternalS3; e.Endpoint != "" && !strings.HasPrefix(e.Endpoint, "http") {
		bad("artifacts.externalS3.endpoint: %q must be an http(s) URL", e.Endpoint)
	}
	if c.Sandbox.Driver == "" {
		bad("sandbox.driver: must be auto or a driver name")
	}
	if c.Sandbox.CPUs <= 0 || c.Sandbox.MemoryBytes <= 0 {
		bad("sandbox.cpus and sandbox.memoryBytes: must be positive")
	}
	if p, err := netip.ParsePrefix(c.Sandbox.Egress.Subnet); err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		bad("sandbox.egress.subnet: must be an IPv4 prefix of /30 or wider, like 10.231.0.0/16")
	}
	if t := c.Sandbox.Egress.Tag; len(t) > 4 || strings.Trim(t, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		bad("sandbox.egress.tag: at most 4 lowercase letters or digits")
	}
	if c.Sessions.MaxSessions < 0 {
		bad("sessions.maxSessions: must be 0 (unlimited) or more")
	}
	if c.Sessions.InitTimeout <= 0 || c.Sessions.PingInterval <= 0 {
		bad("sessions.initTimeout and sessions.pingInterval: must be positive")
	}
	if c.Sessions.PoolSize < 0 {
		bad("sessions.poolSize: must be 0 (no warm pools) or more")
	}
	if c.Sessions.PoolMemoryBytes <= 0 || c.Sessions.PoolIdle <= 0 {
		bad("sessions.poolMemoryBytes and sessions.poolIdle: must be positive")
	}
	if c.Metering.Interval < 100*time.Millisecond || c.Metering.Interval > time.Minute {
		bad("metering.interval: must be between 100ms and 1m")
	}
	if c.Metering.CPUPricePerVCPUHour < 0 || c.Metering.MemoryPricePerGBHour < 0 {
		bad("metering.cpuPricePerVcpuHour and metering.memoryPricePerGbHour: must not be negative")
	}
	if e := c.Telemetry.OTLPEndpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("telemetry.otlpEndpoint: %q is not an http(s) URL such as http://collector:4318", e)
		}
	}
	for _, h := range c.Telemetry.OTLPHeaders {
		if k, _, ok := strings.Cut(h, "="); !ok || strings.TrimSpace(k) == "" {
			bad("telemetry.otlpHeaders: %q is not key=value", h)
		}
	}
	if c.Telemetry.TraceRetention <= 0 || c.Telemetry.TraceMaxSpans < 0 {
		bad("telemetry.traceRetention: must be positive; telemetry.traceMaxSpans: must not be negative")
	}
	if c.Logs.MaxBytesPerSession < 4096 || c.Logs.MaxTotalBytes < c.Logs.MaxBytesPerSession || c.Logs.MaxAge <= 0 {
		bad("logs.maxBytesPerSession: must be at least 4096; logs.maxTotalBytes: at least logs.maxBytesPerSession; logs.maxAge: positive")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}
