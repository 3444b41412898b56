package image

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/errdefs"
)

// Config is what a sandbox needs from an image's configuration to run it. It is stored as
// JSON beside the prepared root filesystem (ConfigPath).
type Config struct {
	Digest       string            `json:"digest"` // the image manifest digest
	OS           string            `json:"os,omitempty"`
	Architecture string            `json:"architecture,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	Env          []string          `json:"env,omitempty"` // KEY=value
	WorkingDir   string            `json:"workingDir,omitempty"`
	User         string            `json:"user,omitempty"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"` // "8080/tcp", sorted
	Labels       map[string]string `json:"labels,omitempty"`
}

// ConfigPath is where the Config of the root filesystem at rootfs is stored.
func ConfigPath(rootfs string) string { return rootfs + ".config.json" }

// ReadConfig loads the Config stored for the root filesystem at rootfs.
func ReadConfig(rootfs string) (Config, error) {
	var c Config
	b, err := os.ReadFile(ConfigPath(rootfs))
	if err != nil {
		return c, fmt.Errorf("read image config of %s: %w", rootfs, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse image config of %s: %w", rootfs, err)
	}
	return c, nil
}

// writeConfig stores the image's run configuration at dst, atomically.
func (p *Preparer) writeConfig(img v1.Image, digest v1.Hash, dst, uri string) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return fail(errdefs.ErrUnavailable, err, "configuration of image %s could not be read", uri)
	}
	c := Config{
		Digest:       digest.String(),
		OS:           cf.OS,
		Architecture: cf.Architecture,
		Entrypoint:   cf.Config.Entrypoint,
		Cmd:          cf.Config.Cmd,
		Env:          cf.Config.Env,
		WorkingDir:   cf.Config.WorkingDir,
		User:         cf.Config.User,
		Labels:       cf.Config.Labels,
	}
	for port := range cf.Config.ExposedPorts {
		c.ExposedPorts = append(c.ExposedPorts, port)
	}
	sort.Strings(c.ExposedPorts)
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode image config: %w", err)
	}
	f, err := os.CreateTemp(p.tmpDir(), "config-")
	if err != nil {
		return fmt.Errorf("write image config: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // a no-op once renamed
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return fmt.Errorf("write image config: %w", err)
	}
	if err := atomicfile.Commit(f, dst); err != nil {
		return fmt.Errorf("write image config: %w", err)
	}
	return nil
}
