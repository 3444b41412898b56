package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"

	"berth.dev/berth/internal/sandbox/netns"
)

// ociSpec is the OCI runtime config the crun and runsc baselines run a's agent with: the
// tree at root as a read-only root filesystem (the host's /), /proc, a tmpfs /dev and /tmp,
// the agent's directories bound read-only over that /tmp, root inside (no user
// switch, no capability changes: the runtimes' defaults), no_new_privs, new PID, IPC, UTS
// and mount namespaces and the network namespace at nsPath.
func ociSpec(a agentSpec, root, nsPath, hostname string) map[string]any {
	cwd := a.dir
	if cwd == "" {
		cwd = "/"
	}
	mounts := []map[string]any{
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "mode=1777"}},
	}
	for _, d := range hostDirs(a) {
		mounts = append(mounts, map[string]any{"destination": d, "type": "bind", "source": d, "options": []string{"rbind", "ro"}})
	}
	return map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal": false, "user": map[string]any{"uid": 0, "gid": 0},
			"args": a.argv, "cwd": cwd,
			"env":             append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "PORT=8080"}, a.env...),
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": root, "readonly": true},
		"hostname": hostname,
		"mounts":   mounts,
		"linux": map[string]any{
			"namespaces": []map[string]any{
				{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
				{"type": "network", "path": nsPath},
			},
		},
	}
}

// runscNote describes the raw runsc baseline in the report.
const runscNote = "runsc --root <dir> --network=host run --detach, OCI bundle over the host / read-only " +
	"(no --overlay2 and no cgroup limits, which the gvisor driver adds), pid/ipc/uts/mount ns + a fresh loopback netns; " +
	"runsc's default platform"

// runscBaseline is gVisor's runsc started by hand, the reference the gvisor driver is
// judged against, or nil and why it cannot run.
func runscBaseline(scratch string) (*baseline, string) {
	rs, err := exec.LookPath("runsc")
	if err != nil {
		return nil, "runsc not installed (apt-get install runsc)"
	}
	dir := filepath.Join(scratch, "runsc")
	var seq atomic.Int64
	return &baseline{name: "runsc", note: runscNote, start: func(ctx context.Context, a agentSpec) (*spawned, error) {
		return startRunsc(ctx, rs, dir, seq.Add(1), a)
	}}, ""
}

// startRunsc writes an OCI bundle whose root is the host's / and runs it with
// `runsc run --detach` in a fresh loopback-only network namespace, which the sentry uses
// as its host network (--network=host); the agent is reached by dialling inside it.
func startRunsc(ctx context.Context, runsc, dir string, seq int64, a agentSpec) (*spawned, error) {
	id := fmt.Sprintf("bench-runsc-%d-%d", os.Getpid(), seq)
	bundle := filepath.Join(dir, id)
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return nil, fmt.Errorf("start runsc %s: %w", a.name, err)
	}
	ns, err := netns.New()
	if err != nil {
		return nil, fmt.Errorf("start runsc %s: %w", a.name, err)
	}
	cleanup := func() error {
		out, err := exec.Command(runsc, "--root", state, "delete", "--force", id).CombinedOutput() //nolint:gosec // fixed tool
		if err != nil {
			err = fmt.Errorf("runsc delete %s: %w: %s", id, err, out)
		}
		removeCgroupLeftovers(id)
		return errors.Join(err, ns.Close(), os.RemoveAll(bundle))
	}
	raw, err := json.Marshal(ociSpec(a, "/", ns.Path(), id))
	if err != nil {
		return nil, errors.Join(err, cleanup())
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("start runsc %s: %w", a.name, err), cleanup())
	}
	logPath := filepath.Join(bundle, "output")
	logf, err := os.Create(logPath) //nolint:gosec // the harness's own bundle
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start runsc %s: %w", a.name, err), cleanup())
	}
	cmd := exec.CommandContext(ctx, runsc, "--root", state, "--network=host", "run", "--detach", "--bundle", bundle, id) //nolint:gosec // fixed tool
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Run()
	_ = logf.Close()
	if err != nil {
		out, _ := os.ReadFile(logPath) //nolint:gosec // the harness's own bundle
		return nil, errors.Join(fmt.Errorf("start runsc %s: %w: %s", a.name, err, out), cleanup())
	}
	return &spawned{url: "http://127.0.0.1:8080/invocations", client: nsClient(ns), stop: cleanup}, nil
}

// removeCgroupLeftovers removes the empty cgroup directories named id that an OCI runtime
// may leave at the top of each v1 hierarchy (runsc does when its sandbox is killed; crun
// on some exits). Errors are ignored: a directory still in use stays.
func removeCgroupLeftovers(id string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", id))
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}
