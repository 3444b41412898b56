package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/internal/sandbox/netns"
)

// agentSpec is an agent as the baselines run it from the host's filesystem: argv, extra
// environment, and the working directory (the Python agent's code directory).
type agentSpec struct {
	name string
	argv []string
	env  []string
	dir  string
}

// baseline starts an agent outside Berth. Its start returns once the agent's process has
// been started; the caller times from just before start until the first response byte.
type baseline struct {
	name  string
	note  string
	start func(ctx context.Context, a agentSpec) (*spawned, error)
}

// spawned is an agent started by a baseline: its invocation URL, a client that reaches it,
// how to stop it, and optionally what to add to an error when it never answers.
type spawned struct {
	url    string
	client *http.Client
	stop   func() error
	diag   func() string // nil: nothing to add
}

// firstByte retries POST url (body {"op":"incr"}) until the first response byte arrives or
// the deadline passes; connection errors are retried after 1 ms, as a poller would.
func (s *spawned) firstByte(ctx context.Context, deadline time.Time) error {
	for {
		err := func() error {
			actx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(actx, http.MethodPost, s.url, bytes.NewReader(incrBody))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := s.client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			if err := resp.Body.Close(); err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agent did not answer: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
}

var incrBody = []byte(`{"op":"incr"}`)

// baselines returns the baselines that can run on this host, notes on those that cannot,
// and a function that releases what they hold.
func baselines(scratch string) ([]baseline, []string, func()) {
	out := []baseline{{name: "bare process", note: "exec in the host network namespace, free loopback port", start: startBare}}
	var skipped []string
	release := func() {}
	if netns.Available() != nil {
		return out, []string{"bwrap, crun and runsc baselines need network namespaces (run as root)"}, release
	}
	if bw, err := exec.LookPath("bwrap"); err == nil {
		out = append(out, baseline{name: "bwrap", note: "bwrap --unshare-all (net: a fresh loopback netns), --ro-bind / /, proc, dev, tmpfs /tmp",
			start: func(ctx context.Context, a agentSpec) (*spawned, error) { return startBwrap(ctx, bw, a) }})
	} else {
		skipped = append(skipped, "bwrap not installed (apt-get install bubblewrap)")
	}
	if cr, err := exec.LookPath("crun"); err == nil {
		root := filepath.Join(scratch, "crun", "rootfs")
		prefix, note, stop, err := crunHelper(root)
		if err != nil {
			skipped = append(skipped, "crun: "+err.Error())
		} else {
			release = stop
			argv := append(prefix, cr)
			var seq atomic.Int64
			out = append(out, baseline{name: "crun", note: "crun run --detach, OCI bundle over the host / read-only, pid/ipc/uts/mount ns + a fresh loopback netns" + note,
				start: func(ctx context.Context, a agentSpec) (*spawned, error) {
					return startCrun(ctx, argv, root, filepath.Join(scratch, "crun"), seq.Add(1), a)
				}})
		}
	} else {
		skipped = append(skipped, "crun not installed (apt-get install crun)")
	}
	if b, why := runscBaseline(scratch); b != nil {
		out = append(out, *b)
	} else {
		skipped = append(skipped, why)
	}
	return out, skipped, release
}

// crunHelper starts a helper in a private mount namespace in which crun then runs (through
// nsenter, one extra exec per crun call): there the host's / is bind-mounted at root, the
// bundles' root filesystem (crun cannot pivot_root to / itself), and on hybrid cgroup hosts
// the cgroup2 tree at /sys/fs/cgroup/unified is unmounted, because crun 1.8 refuses hybrid
// mode (ISOLATION.md §2c). It returns the nsenter prefix, a note for the report and a stop
// function.
func crunHelper(root string) ([]string, string, func(), error) {
	if err := os.MkdirAll(root, 0o755); err != nil { //nolint:gosec // a mount point
		return nil, "", nil, err
	}
	script := "mount --rbind / " + root + " && mount --make-rprivate " + root + " && echo ready && exec sleep 86400"
	note := "; crun runs via nsenter in a mount namespace holding an rbind of / (one extra exec)"
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(mi), " /sys/fs/cgroup/unified ") {
		script = "umount /sys/fs/cgroup/unified && " + script
		note += " without the hybrid cgroup2 tree, which crun 1.8 refuses"
	}
	helper := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script) //nolint:gosec // fixed script, harness paths
	helper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		return nil, "", nil, err
	}
	if err := helper.Start(); err != nil {
		return nil, "", nil, fmt.Errorf("start mount-namespace helper: %w", err)
	}
	line := make([]byte, 6)
	if _, err := io.ReadFull(stdout, line); err != nil || string(line) != "ready\n" {
		if err == nil {
			err = errors.New("unexpected output")
		}
		_ = killWait(helper)
		return nil, "", nil, fmt.Errorf("mount-namespace helper did not start (read %q): %w", line, err)
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		_ = killWait(helper)
		return nil, "", nil, fmt.Errorf("nsenter: %w", err)
	}
	prefix := []string{nsenter, fmt.Sprintf("--mount=/proc/%d/ns/mnt", helper.Process.Pid), "--"}
	return prefix, note, func() { _ = killWait(helper) }, nil
}

// startBare runs the agent as a plain child process on a free loopback port.
func startBare(_ context.Context, a agentSpec) (*spawned, error) {
	port, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(a.argv[0], a.argv[1:]...) //nolint:gosec // the harness's own agents
	cmd.Env = append(append(os.Environ(), a.env...), "PORT="+strconv.Itoa(port))
	cmd.Dir = a.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bare %s: %w", a.name, err)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	return &spawned{
		url:    "http://127.0.0.1:" + strconv.Itoa(port) + "/invocations",
		client: &http.Client{Transport: tr},
		stop:   func() error { return killWait(cmd) },
	}, nil
}

// startBwrap runs the agent under bubblewrap in a fresh loopback-only network namespace
// (bwrap shares the namespace it is started in, which the harness made), reached by dialing
// from inside that namespace.
func startBwrap(_ context.Context, bwrap string, a agentSpec) (*spawned, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, fmt.Errorf("start bwrap %s: %w", a.name, err)
	}
	args := []string{"--unshare-all", "--share-net", "--die-with-parent", "--new-session",
		"--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "PORT", "8080"}
	for _, kv := range a.env {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	for _, d := range hostDirs(a) {
		args = append(args, "--ro-bind", d, d)
	}
	if a.dir != "" {
		args = append(args, "--chdir", a.dir)
	}
	args = append(append(args, "--"), a.argv...)
	cmd := exec.Command(bwrap, args...) //nolint:gosec // fixed tool, the harness's own agents
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := ns.Do(cmd.Start); err != nil {
		_ = ns.Close()
		return nil, fmt.Errorf("start bwrap %s: %w", a.name, err)
	}
	return &spawned{
		url:    "http://127.0.0.1:8080/invocations",
		client: nsClient(ns),
		stop:   func() error { return errors.Join(killWait(cmd), ns.Close()) },
	}, nil
}

// startCrun writes an OCI bundle (root: the helper's bind of the host /, read-only; the
// agent's argv) and runs it with `crun run --detach` in a fresh loopback-only network
// namespace.
func startCrun(ctx context.Context, crun []string, root, dir string, seq int64, a agentSpec) (*spawned, error) {
	id := fmt.Sprintf("bench-%d-%d", os.Getpid(), seq)
	bundle := filepath.Join(dir, id)
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return nil, fmt.Errorf("start crun %s: %w", a.name, err)
	}
	ns, err := netns.New()
	if err != nil {
		return nil, fmt.Errorf("start crun %s: %w", a.name, err)
	}
	cleanup := func() error {
		out, err := exec.Command(crun[0], append(crun[1:], "--root", state, "delete", "--force", id)...).CombinedOutput() //nolint:gosec // fixed tool
		if err != nil {
			err = fmt.Errorf("crun delete %s: %w: %s", id, err, out)
		}
		removeCgroupLeftovers(id)
		return errors.Join(err, ns.Close(), os.RemoveAll(bundle))
	}
	spec := ociSpec(a, root, ns.Path(), id)
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, errors.Join(err, cleanup())
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("start crun %s: %w", a.name, err), cleanup())
	}
	// The detached agent inherits crun's stdio: a file, not a pipe, so Run need not wait
	// for the agent to close it.
	logPath := filepath.Join(bundle, "output")
	logf, err := os.Create(logPath) //nolint:gosec // the harness's own bundle
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start crun %s: %w", a.name, err), cleanup())
	}
	cmd := exec.CommandContext(ctx, crun[0], append(crun[1:], "--root", state, "run", "--detach", "--bundle", bundle, id)...) //nolint:gosec // fixed tool
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Run()
	_ = logf.Close()
	if err != nil {
		out, _ := os.ReadFile(logPath) //nolint:gosec // the harness's own bundle
		return nil, errors.Join(fmt.Errorf("start crun %s: %w: %s", a.name, err, out), cleanup())
	}
	return &spawned{url: "http://127.0.0.1:8080/invocations", client: nsClient(ns), stop: cleanup}, nil
}

// nsClient is an HTTP client whose connections are made inside ns (no keep-alive: every
// probe is a fresh connection).
func nsClient(ns *netns.NS) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       ns.Dial,
	}}
}

// killWait kills cmd's process group and reaps it.
func killWait(cmd *exec.Cmd) error {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // killed, as asked
	}
	return err
}

// hostDirs are the directories of a's program and its working directory: the sandboxed
// baselines bind them over their fresh /tmp, where the harness's scratch files may live.
func hostDirs(a agentSpec) []string {
	dirs := []string{filepath.Dir(a.argv[0])}
	if a.dir != "" && a.dir != dirs[0] {
		dirs = append(dirs, a.dir)
	}
	return dirs
}
