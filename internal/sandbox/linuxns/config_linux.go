package linuxns

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"berth.dev/berth/internal/sandbox/rootfs"
)

// initArg is argv[0] of a re-executed sandbox init; enterArg of an Exec helper.
const (
	initArg  = "berth-sandbox-init"
	enterArg = "berth-sandbox-enter"
)

// Child file descriptors: the configuration arrives on fd 3 (the parent closes its end once
// the child is in its cgroup); failures go out on fd 4, which is close-on-exec, so the
// parent reads EOF exactly when the exec succeeded.
const (
	configFD = 3
	errorFD  = 4
)

// childConfig is what a sandbox init or Exec helper needs; it travels as JSON.
type childConfig struct {
	// Init only.
	Lower      string        `json:"lower"`             // read-only lower tree of the root overlay
	Binds      []rootfs.Bind `json:"binds,omitempty"`   // host trees bound read-only (code zips)
	CodeDir    string        `json:"codeDir,omitempty"` // code tree, overlaid at WorkDir
	SessionDir string        `json:"sessionDir"`        // empty host dir for the writable tmpfs
	DiskBytes  int64         `json:"diskBytes"`         // tmpfs size of the writable layers and of /tmp
	Hostname   string        `json:"hostname"`
	// Enter only: the host pid of the sandbox's PID 1, whose root is entered.
	TargetPID int `json:"targetPid,omitempty"`
	// Both.
	Argv    []string `json:"argv"`
	Env     []string `json:"env"`
	WorkDir string   `json:"workDir"`
	UID     int      `json:"uid"`
	GID     int      `json:"gid"`
}

// readConfig reads the configuration from fd 3 until the parent closes it.
func readConfig() (*childConfig, error) {
	f := os.NewFile(configFD, "config")
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("read configuration: the parent sent none")
	}
	var c childConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return &c, nil
}
