package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"berth.dev/berth/bench/harness"
)

// bareAgent is the test agent running as a plain process on a loopback port: the baseline
// Berth's figures are compared against.
type bareAgent struct {
	Addr string // 127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}
}

// startBareAgent runs bin with PORT set to a free loopback port and waits until its /ping
// answers 200.
func startBareAgent(ctx context.Context, bin string) (*bareAgent, error) {
	port, err := harness.FreePort()
	if err != nil {
		return nil, fmt.Errorf("start bare agent: %w", err)
	}
	cmd := exec.Command(bin) //nolint:gosec // the agent binary the harness built
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bare agent: %w", err)
	}
	a := &bareAgent{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.done) }()
	if err := a.waitReady(ctx, 10*time.Second); err != nil {
		a.Stop()
		return nil, fmt.Errorf("start bare agent: %w", err)
	}
	return a, nil
}

func (a *bareAgent) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr+"/ping", nil)
		if err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		if resp, err := c.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-a.done:
			return fmt.Errorf("agent exited before answering /ping")
		case <-ctx.Done():
			return fmt.Errorf("agent not healthy: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// PID is the agent's process id.
func (a *bareAgent) PID() int { return a.cmd.Process.Pid }

// Stop kills the agent and waits for it.
func (a *bareAgent) Stop() {
	_ = a.cmd.Process.Kill()
	<-a.done
}
