package cli_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/rogpeppe/go-internal/testscript"
)

// toolEnv gives a script what the package managers and the go tool need: a writable HOME of
// its own (testscript's is /no-home), this machine's Go build and module caches, and no
// module downloads.
func toolEnv(env *testscript.Env) error {
	home, err := os.MkdirTemp("", "berth-cli-home-")
	if err != nil {
		return err
	}
	env.Defer(func() { _ = os.RemoveAll(home) })
	env.Setenv("HOME", home)
	for _, k := range []string{"GOCACHE", "GOPATH", "GOMODCACHE"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			return err
		}
		env.Setenv(k, strings.TrimSpace(string(out)))
	}
	env.Setenv("GOTOOLCHAIN", "local")
	env.Setenv("GOPROXY", "off")
	env.Setenv("GOFLAGS", "-mod=mod")
	return nil
}

// stopLocalServers kills the local servers scripts left running (their .berth/local.json
// anywhere under dir), so that a failing script does not leave one behind.
func stopLocalServers(t testscript.T, dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "local.json" || filepath.Base(filepath.Dir(p)) != ".berth" {
			return nil //nolint:nilerr // best effort
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil //nolint:nilerr // best effort
		}
		var ls struct {
			PID     int    `json:"pid"`
			DataDir string `json:"dataDir"`
		}
		if json.Unmarshal(raw, &ls) != nil || ls.PID <= 0 {
			return nil
		}
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(ls.PID) + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(ls.DataDir)) {
			t.Log("killing the local server a script left running, pid", ls.PID)
			_ = syscall.Kill(ls.PID, syscall.SIGKILL)
		}
		return nil
	})
}

// cmdFreePort: freeport VAR — sets VAR to a TCP port of 127.0.0.1 free right now.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	ts.Check(l.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

// cmdHTTPWait: httpwait METHOD URL BODY REGEXP — repeats the request (every 100 ms, for up
// to 30 s) until it answers 200 with a body matching REGEXP. With !, it fails if that
// happens within 1 s.
func cmdHTTPWait(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: [!] httpwait METHOD URL BODY REGEXP")
	}
	re, err := regexp.Compile(args[3])
	ts.Check(err)
	wait := 30 * time.Second
	if neg {
		wait = time.Second
	}
	deadline := time.Now().Add(wait)
	last := ""
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(args[0], args[1], strings.NewReader(args[2]))
		ts.Check(err)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			last = resp.Status + " " + string(body)
			if resp.StatusCode == http.StatusOK && re.Match(body) {
				if neg {
					ts.Fatalf("httpwait: %s %s answered %s", args[0], args[1], body)
				}
				ts.Logf("%s %s: %s", args[0], args[1], body)
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !neg {
		ts.Fatalf("httpwait: no 200 answer matching %q within %s; last: %s", args[3], wait, last)
	}
}

// cmdMkImage: mkimage layout|tarball OUT SRCDIR — builds the Go main package in SRCDIR into
// a static binary and writes a single-layer image running it as /agent, as an OCI image
// layout directory or a docker-archive tarball. It is written here with go-containerregistry
// directly, independently of berth's own image builder.
func cmdMkImage(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg || (args[0] != "layout" && args[0] != "tarball") {
		ts.Fatalf("usage: mkimage layout|tarball OUT SRCDIR")
	}
	out, src := ts.MkAbs(args[1]), ts.MkAbs(args[2])
	bin := filepath.Join(ts.MkAbs("."), ".mkimage-agent")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOTOOLCHAIN=local", "GOPROXY=off")
	if o, err := build.CombinedOutput(); err != nil {
		ts.Fatalf("go build: %v\n%s", err, o)
	}
	defer func() { _ = os.Remove(bin) }()
	raw, err := os.ReadFile(bin)
	ts.Check(err)
	var layerTar bytes.Buffer
	tw := tar.NewWriter(&layerTar)
	ts.Check(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "agent", Mode: 0o755, Size: int64(len(raw))}))
	_, err = tw.Write(raw)
	ts.Check(err)
	ts.Check(tw.Close())
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	ts.Check(err)
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	ts.Check(err)
	cf, err := img.ConfigFile()
	ts.Check(err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/agent"}
	img, err = mutate.ConfigFile(img, cf)
	ts.Check(err)
	if args[0] == "layout" {
		p, err := layout.Write(out, empty.Index)
		ts.Check(err)
		ts.Check(p.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})))
		return
	}
	tag, err := name.NewTag("example.com/agent:test")
	ts.Check(err)
	ts.Check(tarball.WriteToFile(out, tag, img))
}

// cmdMkZip: mkzip OUT DIR — zips the files under DIR (paths relative to it) into OUT; a
// Python wheel is such a zip.
func cmdMkZip(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mkzip OUT DIR")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	dir := ts.MkAbs(args[1])
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(raw)
		return err
	})
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), buf.Bytes(), 0o644))
}

// cmdStdoutVar: stdoutvar VAR REGEXP — sets VAR to REGEXP's first group in the last
// command's stdout.
func cmdStdoutVar(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: stdoutvar VAR REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("stdoutvar: no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}
