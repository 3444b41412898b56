package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/test/testserver"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// berthBinary builds cmd/berth once per test process.
func berthBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		// Shared by every test in the process, so not t.TempDir (removed after the first test).
		dir, err := os.MkdirTemp("", "berth-e2e-bin") //nolint:usetesting // outlives one test
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "berth")
		out, err := exec.Command("go", "build", "-o", binPath, "berth.dev/berth/cmd/berth").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// binaryServer is the real berth binary running as a child process.
type binaryServer struct {
	cmd *exec.Cmd
	url string
}

func startBinary(t *testing.T, dataDir string, args ...string) *binaryServer {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("the process sandbox driver needs network namespaces (run as root): %v", err)
	}
	args = append([]string{"server", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-level", "warn",
		"--sandbox", "process", "--insecure-registries", "127.0.0.1"}, args...)
	cmd := exec.Command(berthBinary(t), args...)
	cmd.Stderr = testserver.LogWriter(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("berth server exited before listening")
			}
			if _, addr, found := strings.Cut(line, "listening on "); found {
				go func() {
					for range lines { // keep draining
					}
				}()
				return &binaryServer{cmd: cmd, url: strings.TrimSpace(addr)}
			}
		case <-timeout:
			t.Fatal("berth server did not report its address within 30s")
		}
	}
}

// TestCrash_KillDuringCreates kills the server with SIGKILL in the middle of a batch of
// concurrent creates. After a restart every acknowledged create is there and complete
// (version 1 plus the DEFAULT endpoint), nothing half-created is visible, and runtimes left
// CREATING are prepared by the restarted server.
func TestCrash_KillDuringCreates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	dataDir := t.TempDir()
	first := startBinary(t, dataDir)
	ts := &testServer{&testserver.Server{URL: first.url, Creds: testserver.ReadCredentials(t, filepath.Join(dataDir, "credentials"))}}
	ts.upload(t, "agents", "a.zip", agentZip(t, "main.py"))
	c := ts.Control()

	var (
		mu    sync.Mutex
		acked = map[string]string{} // name → id
		count atomic.Int32
		wg    sync.WaitGroup
	)
	const workers, perWorker, killAfter = 4, 50, 40
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				name := fmt.Sprintf("crash_%d_%d", w, i)
				out, err := c.CreateAgentRuntime(context.Background(), &cp.CreateAgentRuntimeInput{
					AgentRuntimeName: aws.String(name), AgentRuntimeArtifact: codeArtifact("agents", "a.zip"),
					RoleArn: testRole, NetworkConfiguration: testNetwork,
				})
				if err != nil {
					return // the server died under us; unacknowledged writes may or may not exist
				}
				mu.Lock()
				acked[name] = aws.ToString(out.AgentRuntimeId)
				mu.Unlock()
				if count.Add(1) == killAfter {
					_ = first.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		})
	}
	wg.Wait()
	_ = first.cmd.Wait()
	if len(acked) < killAfter {
		t.Fatalf("only %d creates acknowledged before the kill", len(acked))
	}

	second := startBinary(t, dataDir)
	ts.URL = second.url
	c = ts.Control()
	listed := map[string]string{}
	p := cp.NewListAgentRuntimesPaginator(c, &cp.ListAgentRuntimesInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.AgentRuntimes {
			listed[aws.ToString(r.AgentRuntimeName)] = aws.ToString(r.AgentRuntimeId)
		}
	}
	for name, id := range acked {
		if listed[name] != id {
			t.Errorf("acknowledged runtime %s (%s) lost after kill -9 (listed as %q)", name, id, listed[name])
		}
	}
	t.Logf("%d acknowledged, %d present after restart", len(acked), len(listed))
	for name, id := range listed {
		got := waitStatus(t, c, id, nil)
		if got.Status != types.AgentRuntimeStatusReady || aws.ToString(got.AgentRuntimeVersion) != "1" {
			t.Errorf("%s: status %s version %s after restart, want READY 1", name, got.Status, aws.ToString(got.AgentRuntimeVersion))
		}
		def, err := c.GetAgentRuntimeEndpoint(context.Background(), &cp.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT")})
		if err != nil || aws.ToString(def.LiveVersion) != "1" {
			t.Errorf("%s: DEFAULT endpoint %v err %v", name, def, err)
		}
	}
}

// TestCrash_KillWithLiveSessions kills the server with SIGKILL while sessions are live.
// After a restart no agent process survives and the session records say why they ended.
func TestCrash_KillWithLiveSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	dataDir := t.TempDir()
	first := startBinary(t, dataDir)
	ts := &testServer{&testserver.Server{URL: first.url, Addr: strings.TrimPrefix(first.url, "http://"), DataDir: dataDir,
		Creds: testserver.ReadCredentials(t, filepath.Join(dataDir, "credentials"))}}
	rt := ts.deployPython(t, "live_py", nil)
	c := ts.Data()
	var pids []int
	for _, name := range []string{"one", "two", "three"} {
		m, _ := invokeJSON(t, c, rt.ARN, sid(name), `{"op":"incr"}`)
		pids = append(pids, int(m["pid"].(float64)))
	}
	if live := ts.sessions(t, "live=true"); len(live) != 3 {
		t.Fatalf("%d live sessions before the kill, want 3", len(live))
	}
	_ = first.cmd.Process.Signal(syscall.SIGKILL)
	_ = first.cmd.Wait()

	second := startBinary(t, dataDir)
	ts.URL = second.url
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("agent process %d survived the server's kill and restart", pid)
		}
	}
	if left := processesUnder(dataDir); len(left) > 0 {
		t.Errorf("processes left under the data dir: %v", left)
	}
	recs := ts.sessions(t, "agentRuntimeId="+rt.ID)
	if len(recs) != 3 {
		t.Fatalf("%d session records after restart, want 3: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.State != "terminated" || r.EndReason != "server_restart" {
			t.Errorf("session %s: state %s reason %q, want terminated / server_restart", r.SessionID, r.State, r.EndReason)
		}
	}
	// The same session id works again, on a fresh sandbox.
	c = ts.Data()
	if n := count(t, c, rt.ARN, sid("one")); n != 1 {
		t.Errorf("restarted session counted %d, want 1", n)
	}
}

// alive reports whether pid is a running process (a zombie waiting to be reaped by init is
// dead: it holds no memory and runs nothing).
func alive(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
