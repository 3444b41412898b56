package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// cliConfig is the CLI's own config file, ~/.config/berth/config.yaml (or
// $XDG_CONFIG_HOME/berth/config.yaml; BERTH_CLI_CONFIG names another file). It names
// servers, so that --profile NAME (or BERTH_PROFILE) picks one:
//
//	profiles:
//	  default:
//	    endpoint: http://127.0.0.1:8787
//	    credentials: /var/lib/berth/credentials
//	  staging:
//	    endpoint: https://berth.staging.example:8787
//	    credentials: ~/.berth/staging-credentials
//	    credentialsProfile: ci     # the profile inside that file (default "default")
//	    region: eu-west-1
//
// A --profile the file does not define names a profile of the credentials file, as the AWS
// CLI's --profile does.
type cliConfig struct {
	Profiles map[string]cliProfile `yaml:"profiles"`
}

// cliProfile is one server in the CLI config file; empty fields fall back to the defaults.
type cliProfile struct {
	Endpoint           string `yaml:"endpoint"`
	Credentials        string `yaml:"credentials"`
	CredentialsProfile string `yaml:"credentialsProfile"`
	Region             string `yaml:"region"`
}

// cliConfigPath is where the CLI config file is looked for.
func cliConfigPath() string {
	if p := os.Getenv("BERTH_CLI_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "berth", "config.yaml")
}

// loadProfile returns the profile called name from the CLI config file and whether the file
// defines it. A missing file defines nothing.
func loadProfile(name string) (cliProfile, bool, error) {
	path := cliConfigPath()
	if path == "" {
		return cliProfile{}, false, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cliProfile{}, false, nil
	}
	if err != nil {
		return cliProfile{}, false, fmt.Errorf("read CLI config: %w", err)
	}
	var c cliConfig
	if err := decodeYAML(path, raw, &c); err != nil {
		return cliProfile{}, false, hintError{err, "the file holds 'profiles:' with endpoint, credentials, credentialsProfile and region per profile"}
	}
	p, ok := c.Profiles[name]
	return p, ok, nil
}

// expandHome replaces a leading ~/ with the home directory.
func expandHome(p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, rest)
}
