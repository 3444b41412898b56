package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "berth.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_Precedence(t *testing.T) {
	path := writeFile(t, "version: 1\nlisten: 0.0.0.0:9000\nregion: eu-west-1\nartifacts:\n  prepareTimeout: 90s\n  insecureRegistries: [a:5000]\n")
	c, err := Load(path, env(map[string]string{"BERTH_REGION": "ap-south-1", "BERTH_ACCOUNT_ID": "123456789012"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9000" {
		t.Errorf("file value lost: listen=%s", c.Listen)
	}
	if c.Region != "ap-south-1" || c.AccountID != "123456789012" {
		t.Errorf("env must win over file: region=%s account=%s", c.Region, c.AccountID)
	}
	if c.Artifacts.PrepareTimeout != 90*time.Second || len(c.Artifacts.InsecureRegistries) != 1 {
		t.Errorf("nested keys: %+v", c.Artifacts)
	}
	if c.Log.Level != "info" {
		t.Errorf("default lost: log.level=%s", c.Log.Level)
	}
	// A flag (applied by the CLI through Setting.Set) wins over both.
	for _, s := range Settings() {
		if s.Flag == "region" {
			if err := s.Set(&c, "us-west-2"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c.Region != "us-west-2" {
		t.Errorf("flag not applied: %s", c.Region)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestLoad_Errors(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"unknown key", "version: 1\nlisten: a:1\nbogus: 3\n", "bogus"},
		{"no version", "listen: a:1\n", "version: 1"},
		{"future version", "version: 7\n", "version 7"},
		{"bad type", "version: 1\nartifacts:\n  prepareWorkers: many\n", "prepareWorkers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := Load("", env(map[string]string{"BERTH_PREPARE_TIMEOUT": "soon"})); err == nil || !strings.Contains(err.Error(), "BERTH_PREPARE_TIMEOUT") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestConfig_ValidateReportsEverything(t *testing.T) {
	c := Default()
	c.Listen = "nope"
	c.Region = "Mars"
	c.AccountID = "12"
	c.Log.Format = "xml"
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"listen", "region", "accountId", "log.format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestSettings_EveryKeyHasFlagAndEnv(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings() {
		if s.Key == "" || s.Flag == "" || !strings.HasPrefix(s.Env, "BERTH_") || s.Usage == "" {
			t.Errorf("incomplete setting %+v", s)
		}
		for _, n := range []string{"k:" + s.Key, "f:" + s.Flag, "e:" + s.Env} {
			if seen[n] {
				t.Errorf("duplicate %s", n)
			}
			seen[n] = true
		}
		c := Default()
		if err := s.Set(&c, s.Get(&c)); err != nil {
			t.Errorf("%s: default does not round-trip: %v", s.Key, err)
		}
	}
}

func TestLoad_PoolSettings(t *testing.T) {
	c := Default()
	if c.Sessions.PoolSize != 1 || c.Sessions.PoolMemoryBytes != 16<<30 || c.Sessions.PoolIdle != 10*time.Minute {
		t.Fatalf("pool defaults %+v", c.Sessions)
	}
	path := writeFile(t, "version: 1\nsessions:\n  poolSize: 3\n  poolMemoryBytes: 1073741824\n  poolIdle: 90s\n")
	c, err := Load(path, env(map[string]string{"BERTH_POOL_SIZE": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sessions.PoolSize != 0 || c.Sessions.PoolMemoryBytes != 1<<30 || c.Sessions.PoolIdle != 90*time.Second {
		t.Fatalf("pool settings from file and env: %+v", c.Sessions)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("pool size 0 (off) rejected: %v", err)
	}
	for name, bad := range map[string]func(*Config){
		"sessions.poolSize":        func(c *Config) { c.Sessions.PoolSize = -1 },
		"sessions.poolMemoryBytes": func(c *Config) { c.Sessions.PoolMemoryBytes = 0 },
		"sessions.poolIdle":        func(c *Config) { c.Sessions.PoolIdle = -time.Second },
	} {
		c := Default()
		bad(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: invalid value accepted or not named: %v", name, err)
		}
	}
}
