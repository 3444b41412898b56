package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// devPoll is how often berth dev looks for changed files.
const devPoll = 300 * time.Millisecond

// devSkipDirs are not watched: caches, dependencies and the CLI's own state.
var devSkipDirs = map[string]bool{".git": true, ".berth": true, "__pycache__": true, ".venv": true, "node_modules": true}

type devFlags struct {
	dir, entrypoint string
	port            int
	env             []string
}

func newDevCmd(stdout, stderr io.Writer) *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev [--port 8080] [--entrypoint FILE]",
		Short: "Run the project's agent locally and restart it when a file changes",
		Long: `Run the project's agent as a local process — no sandbox, no server — serving on --port
(default 8080; the agent gets it as PORT), so that
  curl -XPOST localhost:8080/invocations -d '{"prompt":"hi"}'
talks to it directly. This is the inner loop of AgentCore's 'agentcore dev'.

What runs: a .py entry point with python3, a .js/.mjs/.cjs one with node, a Go module
(go.mod; entry point = main package, default .) with 'go run'. The entry point and the
environment come from .berth.yaml when there is one (flags override), plus
DOCKER_CONTAINER=1 and AWS_REGION as in a session. The agent's output passes through.

Every 300 ms the project's files are checked (modification times, sizes, added and removed
files; .git, .berth, __pycache__, .venv and node_modules are not watched); on a change the
agent is stopped (SIGTERM to its process group, SIGKILL after 5 s) and started again. If it
exits by itself, dev waits for the next change. Ctrl-C stops it and dev.`,
		Example: `  berth dev
  berth dev --port 9090 --entrypoint agent.py --env GREETING=Hi`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			argv, dir, env, err := devCommand(f, cmd.Flags().Changed("entrypoint"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDev(ctx, argv, dir, env, f.port, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "project directory (default: .berth.yaml's source, else .)")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "file that starts the agent, or the Go main package (default: .berth.yaml's, else main.py, agent.py, index.js, main.js or a Go module)")
	fl.IntVar(&f.port, "port", 8080, "port the agent serves on (passed as PORT)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	return cmd
}

// devCommand works out what to run for the project: argv, its directory and environment.
func devCommand(f devFlags, entryGiven bool) ([]string, string, []string, error) {
	p, hasProject, err := loadProject()
	if err != nil {
		return nil, "", nil, err
	}
	dir := f.dir
	if dir == "" {
		dir = p.Source
	}
	if dir == "" {
		dir = "."
	}
	entry := f.entrypoint
	if !entryGiven && hasProject {
		entry = p.Entrypoint
	}
	if entry == "" {
		entry = guessEntry(dir)
	}
	env := map[string]string{}
	maps.Copy(env, p.Env)
	extra, err := parseEnv(f.env)
	if err != nil {
		return nil, "", nil, err
	}
	maps.Copy(env, extra)
	var argv []string
	switch {
	case strings.HasSuffix(entry, ".py"):
		argv = []string{"python3", entry}
	case isNodeEntry(entry):
		argv = []string{"node", entry}
	case fileExists(filepath.Join(dir, "go.mod")) && (entry == "" || !strings.Contains(filepath.Base(entry), ".")):
		if entry == "" {
			entry = "."
		}
		argv = []string{"go", "run", entry}
	default:
		return nil, "", nil, hintError{fmt.Errorf("do not know how to run %q in %s", entry, dir),
			"dev runs a .py file with python3, a .js file with node, or a Go module; pass --entrypoint"}
	}
	if strings.HasSuffix(entry, ".py") || isNodeEntry(entry) {
		if !fileExists(filepath.Join(dir, entry)) {
			return nil, "", nil, hintError{fmt.Errorf("entry point %s is not a file in %s", entry, dir), "pass --entrypoint with the file that starts the agent"}
		}
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, "", nil, hintError{fmt.Errorf("%s is not on PATH", argv[0]), "install it to run the agent locally"}
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return argv, dir, out, nil
}

// guessEntry is the first usual entry file in dir, else "" (a Go module, or nothing).
func guessEntry(dir string) string {
	for _, name := range []string{"main.py", "agent.py", "app.py", "index.js", "main.js", "agent.js"} {
		if fileExists(filepath.Join(dir, name)) {
			return name
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// runDev runs argv in dir until ctx ends, restarting it whenever the tree changes.
func runDev(ctx context.Context, argv []string, dir string, env []string, port int, stdout, stderr io.Writer) error {
	snap, err := snapshotTree(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "berth dev: running %q in %s on http://localhost:%d (POST /invocations, GET /ping); Ctrl-C stops\n",
		strings.Join(argv, " "), dir, port)
	child, err := startAgent(argv, dir, env, port, stdout, stderr)
	if err != nil {
		return err
	}
	tick := time.NewTicker(devPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "berth dev: stopping")
			child.stop()
			return nil
		case <-child.exited:
			fmt.Fprintf(stdout, "berth dev: the agent exited (%s); waiting for a change\n", child.status())
			child.exited = nil
		case <-tick.C:
			now, err := snapshotTree(dir)
			if err != nil {
				return err
			}
			changed := diffTree(snap, now)
			if changed == "" {
				continue
			}
			snap = now
			fmt.Fprintf(stdout, "berth dev: %s changed; restarting\n", changed)
			child.stop()
			if child, err = startAgent(argv, dir, env, port, stdout, stderr); err != nil {
				return err
			}
		}
	}
}

// devChild is one run of the agent.
type devChild struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when it ends; nil once reported
	done   chan struct{}
	err    error
}

func startAgent(argv []string, dir string, env []string, port int, stdout, stderr io.Writer) (*devChild, error) {
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // the project's own agent
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "DOCKER_CONTAINER=1", "AWS_REGION="+envOr(defaultRegion, "AWS_REGION"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	c := &devChild{cmd: cmd, done: make(chan struct{})}
	c.exited = c.done
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// stop ends the agent's process group: SIGTERM, then SIGKILL after 5 s.
func (c *devChild) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = signalGroup(c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = signalGroup(c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}

func (c *devChild) status() string {
	if c.err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.String()
	}
	return c.err.Error()
}

// fileStamp is what is compared to see a change.
type fileStamp struct {
	mod  time.Time
	size int64
}

// snapshotTree records every watched file's modification time and size.
func snapshotTree(dir string) (map[string]fileStamp, error) {
	snap := map[string]fileStamp{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil // removed while walking
			}
			return err
		}
		if d.IsDir() {
			if p != dir && devSkipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil //nolint:nilerr // removed while walking: the next poll sees it
		}
		snap[p] = fileStamp{mod: info.ModTime(), size: info.Size()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return snap, nil
}

// diffTree names one changed, added or removed file, or returns "".
func diffTree(old, now map[string]fileStamp) string {
	for _, p := range slices.Sorted(maps.Keys(now)) {
		if o, ok := old[p]; !ok || o != now[p] {
			return p
		}
	}
	for _, p := range slices.Sorted(maps.Keys(old)) {
		if _, ok := now[p]; !ok {
			return p
		}
	}
	return ""
}
