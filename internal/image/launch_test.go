package image_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/image"
)

// fakeInterpreters is a fake at the Interpreters seam: which interpreters a host has varies
// from machine to machine, so each case says what its "host" answers. It does not implement
// image.ToolFinder; fakeToolHost adds that.
type fakeInterpreters map[string]fakeFound

type fakeFound struct {
	path, version string
	exact         bool
	err           error
}

func (f fakeInterpreters) Find(runtime string) (string, string, bool, error) {
	r, ok := f[runtime]
	if !ok {
		return "", "", false, &image.Error{Reason: "fake host has no interpreter for " + runtime, Kind: errdefs.ErrUnavailable}
	}
	return r.path, r.version, r.exact, r.err
}

// fakeToolHost is fakeInterpreters plus programs installed on the fake host.
type fakeToolHost struct {
	fakeInterpreters
	tools map[string]string
}

func (f fakeToolHost) FindTool(name string) (string, error) {
	if p, ok := f.tools[name]; ok {
		return p, nil
	}
	return "", errdefs.ErrNotFound
}

var (
	_ image.Interpreters = fakeInterpreters(nil)
	_ image.ToolFinder   = fakeToolHost{}
)

// codeTree writes files (name → content; a name ending in "/" is a directory) into a fresh
// directory standing for a prepared code tree.
func codeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func codeConfig(runtime string, entryPoint ...string) catalog.RuntimeConfig {
	return catalog.RuntimeConfig{AgentRuntimeArtifact: &catalog.Artifact{CodeConfiguration: &catalog.CodeConfiguration{
		Code:       &catalog.Code{S3: &catalog.S3Location{Bucket: "code", Prefix: "agent.zip"}},
		Runtime:    runtime,
		EntryPoint: entryPoint,
	}}}
}

// allCodeRuntimes is every codeConfiguration.runtime AgentCore defines.
var allCodeRuntimes = []string{
	"PYTHON_3_10", "PYTHON_3_11", "PYTHON_3_12", "PYTHON_3_13", "PYTHON_3_14",
	"NODE_18", "NODE_20", "NODE_22",
}

const (
	py311    = "/usr/bin/python3.11"
	py311Env = "PATH=/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin"
	nodeBin  = "/usr/bin/node"
)

var pyHost = fakeInterpreters{"PYTHON_3_11": {path: py311, version: "3.11.2", exact: true}}

// TestResolveLaunch_EveryRuntime runs each runtime constant on a host that has exactly it.
func TestResolveLaunch_EveryRuntime(t *testing.T) {
	for _, rt := range allCodeRuntimes {
		t.Run(rt, func(t *testing.T) {
			var interp, ver, entry, pathEnv, modEnv string
			if pyVer, ok := strings.CutPrefix(rt, "PYTHON_"); ok {
				major, minor, _ := strings.Cut(pyVer, "_")
				interp = "/opt/python/bin/python" + major + "." + minor
				ver, entry = major+"."+minor+".4", "main.py"
				pathEnv = "PATH=/opt/python/bin:" + image.DefaultPath
				modEnv = "PYTHONPATH=/var/task"
			} else {
				interp, ver, entry = nodeBin, strings.TrimPrefix(rt, "NODE_")+".1.0", "main.js"
				pathEnv = "PATH=/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin"
				modEnv = "NODE_PATH=/var/task/node_modules"
			}
			dir := codeTree(t, map[string]string{entry: "x"})
			host := fakeInterpreters{rt: {path: interp, version: ver, exact: true}}
			got, err := image.ResolveLaunch(catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Path: dir},
				codeConfig(rt, entry), host)
			if err != nil {
				t.Fatalf("ResolveLaunch: %v", err)
			}
			want := image.Launch{
				CodeDir: dir, Command: []string{interp, entry}, Env: []string{pathEnv, modEnv}, WorkDir: "/var/task",
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Launch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveLaunch_RuntimesMatchCatalog checks that the runtimes above are exactly those
// catalog validation accepts, so a runtime added there fails here until ResolveLaunch knows it.
func TestResolveLaunch_RuntimesMatchCatalog(t *testing.T) {
	cfg := codeConfig("NO_SUCH_RUNTIME", "main.py")
	cfg.RoleArn = "arn:aws:iam::123456789012:role/AgentRole"
	cfg.NetworkConfiguration = &catalog.NetworkConfiguration{NetworkMode: "PUBLIC"}
	err := catalog.ValidateCreateRuntime("agent", cfg, nil, nil)
	var ve *errdefs.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 {
		t.Fatalf("validation of an unknown runtime = %v; want one field error", err)
	}
	msg := ve.Fields[0].Message
	want := "Member must be one of [" + strings.Join(allCodeRuntimes, ", ") + "]"
	if msg != want {
		t.Errorf("catalog accepts %q; ResolveLaunch tests cover %q", msg, want)
	}
}

func TestResolveLaunch_Code(t *testing.T) {
	otelHost := fakeToolHost{fakeInterpreters: pyHost, tools: map[string]string{
		"opentelemetry-instrument": "/usr/local/bin/opentelemetry-instrument",
	}}
	emptyToolHost := fakeToolHost{fakeInterpreters: pyHost, tools: map[string]string{}}
	nodeHost := fakeInterpreters{"NODE_22": {path: nodeBin, version: "22.3.0", exact: true}}
	nodeEnv := []string{py311Env, "NODE_PATH=/var/task/node_modules"}
	pyEnv := []string{py311Env, "PYTHONPATH=/var/task"}

	tests := []struct {
		name     string
		files    map[string]string
		runtime  string
		entry    []string
		host     image.Interpreters
		wantCmd  []string
		wantEnv  []string
		wantWarn []string
	}{
		{
			name:    "closest python with a warning",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_13", entry: []string{"main.py"},
			host:    fakeInterpreters{"PYTHON_3_13": {path: py311, version: "3.11.2", exact: false}},
			wantCmd: []string{py311, "main.py"}, wantEnv: pyEnv,
			wantWarn: []string{"PYTHON_3_13 requested; running with python3.11 (3.11.2 at /usr/bin/python3.11, the closest available)"},
		},
		{
			name:    "closest node with a warning",
			files:   map[string]string{"main.js": ""},
			runtime: "NODE_22", entry: []string{"main.js"},
			host:    fakeInterpreters{"NODE_22": {path: nodeBin, version: "20.20.2", exact: false}},
			wantCmd: []string{nodeBin, "main.js"}, wantEnv: nodeEnv,
			wantWarn: []string{"NODE_22 requested; running with node 20 (20.20.2 at /usr/bin/node, the closest available)"},
		},
		{
			name:    "python interpreter outside the default PATH",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_12", entry: []string{"main.py"},
			host: fakeInterpreters{"PYTHON_3_12": {
				path: "/root/.pyenv/versions/3.12.1/bin/python3.12", version: "3.12.1", exact: true,
			}},
			wantCmd: []string{"/root/.pyenv/versions/3.12.1/bin/python3.12", "main.py"},
			wantEnv: []string{"PATH=/root/.pyenv/versions/3.12.1/bin:" + image.DefaultPath, "PYTHONPATH=/var/task"},
		},
		{
			name:    "entry file in a subdirectory",
			files:   map[string]string{"src/app.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"src/app.py"}, host: pyHost,
			wantCmd: []string{py311, "src/app.py"}, wantEnv: pyEnv,
		},
		{
			name:    "wrapper vendored in the zip runs with the interpreter",
			files:   map[string]string{"main.py": "", "bin/opentelemetry-instrument": "#!/build/venv/bin/python\n"},
			runtime: "PYTHON_3_11", entry: []string{"opentelemetry-instrument", "main.py"}, host: otelHost,
			wantCmd: []string{py311, "bin/opentelemetry-instrument", py311, "main.py"}, wantEnv: pyEnv,
		},
		{
			name:    "wrapper given as a path inside the zip",
			files:   map[string]string{"main.py": "", "tools/otel": ""},
			runtime: "PYTHON_3_11", entry: []string{"./tools/otel", "main.py"}, host: pyHost,
			wantCmd: []string{py311, "tools/otel", py311, "main.py"}, wantEnv: pyEnv,
		},
		{
			name:    "wrapper from the host when the zip lacks it",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"opentelemetry-instrument", "main.py"}, host: otelHost,
			wantCmd: []string{"/usr/local/bin/opentelemetry-instrument", py311, "main.py"}, wantEnv: pyEnv,
			wantWarn: []string{"entryPoint wrapper opentelemetry-instrument is not in the code zip " +
				"(bin/opentelemetry-instrument); running the one installed on this host, /usr/local/bin/opentelemetry-instrument"},
		},
		{
			name:    "wrapper nowhere is dropped with a warning",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"opentelemetry-instrument", "main.py"}, host: emptyToolHost,
			wantCmd: []string{py311, "main.py"}, wantEnv: pyEnv,
			wantWarn: []string{"entryPoint wrapper opentelemetry-instrument was not found in the code zip " +
				"(bin/opentelemetry-instrument) or on this host; running main.py without it"},
		},
		{
			name:    "wrapper nowhere, host cannot find tools",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"opentelemetry-instrument", "main.py"}, host: pyHost,
			wantCmd: []string{py311, "main.py"}, wantEnv: pyEnv,
			wantWarn: []string{"entryPoint wrapper opentelemetry-instrument was not found in the code zip " +
				"(bin/opentelemetry-instrument) or on this host; running main.py without it"},
		},
		{
			name:    "wrapper escaping the zip is not looked up",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"../bin/otel", "main.py"}, host: otelHost,
			wantCmd: []string{py311, "main.py"}, wantEnv: pyEnv,
			wantWarn: []string{"entryPoint wrapper ../bin/otel was not found in the code zip (../bin/otel) or on this host; running main.py without it"},
		},
		{
			name:    "python named as the wrapper is dropped silently",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"python", "main.py"}, host: pyHost,
			wantCmd: []string{py311, "main.py"}, wantEnv: pyEnv,
		},
		{
			name:    "python3.12 named as the wrapper is dropped silently",
			files:   map[string]string{"main.py": ""},
			runtime: "PYTHON_3_11", entry: []string{"python3.12", "main.py"}, host: pyHost,
			wantCmd: []string{py311, "main.py"}, wantEnv: pyEnv,
		},
		{
			name:    "node named as the wrapper is dropped silently",
			files:   map[string]string{"index.js": ""},
			runtime: "NODE_22", entry: []string{"node", "index.js"}, host: nodeHost,
			wantCmd: []string{nodeBin, "index.js"}, wantEnv: nodeEnv,
		},
		{
			name:    "node wrappers are not supported",
			files:   map[string]string{"index.js": "", "node_modules/.bin/tsx": ""},
			runtime: "NODE_22", entry: []string{"tsx", "index.js"}, host: nodeHost,
			wantCmd: []string{nodeBin, "index.js"}, wantEnv: nodeEnv,
			wantWarn: []string{`entryPoint wrapper "tsx" is not supported for Node.js runtimes; running index.js without it`},
		},
		{
			name:    "fallback and wrapper warnings together",
			files:   map[string]string{"main.py": "", "bin/opentelemetry-instrument": ""},
			runtime: "PYTHON_3_14", entry: []string{"opentelemetry-instrument", "main.py"},
			host:    fakeInterpreters{"PYTHON_3_14": {path: py311, version: "3.11.2"}},
			wantCmd: []string{py311, "bin/opentelemetry-instrument", py311, "main.py"}, wantEnv: pyEnv,
			wantWarn: []string{"PYTHON_3_14 requested; running with python3.11 (3.11.2 at /usr/bin/python3.11, the closest available)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := codeTree(t, tt.files)
			got, err := image.ResolveLaunch(catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Digest: "sha256:ab", Path: dir},
				codeConfig(tt.runtime, tt.entry...), tt.host)
			if err != nil {
				t.Fatalf("ResolveLaunch: %v", err)
			}
			want := image.Launch{CodeDir: dir, Command: tt.wantCmd, Env: tt.wantEnv, WorkDir: image.CodeMount, Warnings: tt.wantWarn}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Launch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveLaunch_CodeErrors(t *testing.T) {
	noPython := &image.Error{Reason: "no Python interpreter found on this host; install python3", Kind: errdefs.ErrUnavailable}
	tests := []struct {
		name       string
		files      map[string]string // nil: the code tree does not exist
		cfg        catalog.RuntimeConfig
		host       image.Interpreters
		wantKind   error
		wantReason string // substring of FailureReason
	}{
		{
			name: "entry file missing", files: map[string]string{"app.py": ""},
			cfg: codeConfig("PYTHON_3_11", "main.py"), host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: "entry point main.py is not a file in the code zip",
		},
		{
			name: "entry is a directory", files: map[string]string{"main.py/": ""},
			cfg: codeConfig("PYTHON_3_11", "main.py"), host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: "entry point main.py is not a file in the code zip",
		},
		{
			name: "entry outside the code", files: map[string]string{"main.py": ""},
			cfg: codeConfig("PYTHON_3_11", "../main.py"), host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: `entry point "../main.py" is not a relative path inside the code zip`,
		},
		{
			name: "no entry point", files: map[string]string{"main.py": ""},
			cfg: codeConfig("PYTHON_3_11"), host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: "codeConfiguration.entryPoint is empty",
		},
		{
			name: "three entry point tokens", files: map[string]string{"main.py": ""},
			cfg: codeConfig("PYTHON_3_11", "a", "b", "main.py"), host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: "codeConfiguration.entryPoint has 3 tokens",
		},
		{
			name: "unknown runtime", files: map[string]string{"main.py": ""},
			cfg: codeConfig("PYTHON_2_7", "main.py"), host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: `unknown code runtime "PYTHON_2_7"`,
		},
		{
			name: "no codeConfiguration", files: map[string]string{"main.py": ""},
			cfg: catalog.RuntimeConfig{}, host: pyHost,
			wantKind: errdefs.ErrInvalidArgument, wantReason: "the configuration has no codeConfiguration",
		},
		{
			name: "code tree gone", files: nil,
			cfg: codeConfig("PYTHON_3_11", "main.py"), host: pyHost,
			wantKind: errdefs.ErrUnavailable, wantReason: "the prepared code is missing",
		},
		{
			name: "no interpreter on the host", files: map[string]string{"main.py": ""},
			cfg:      codeConfig("PYTHON_3_12", "main.py"),
			host:     fakeInterpreters{"PYTHON_3_12": {err: noPython}},
			wantKind: errdefs.ErrUnavailable, wantReason: "no Python interpreter found on this host; install python3",
		},
		{
			name: "no interpreter finder", files: map[string]string{"main.py": ""},
			cfg: codeConfig("PYTHON_3_11", "main.py"), host: nil,
			wantKind: errdefs.ErrInvalidArgument, wantReason: "no interpreter finder given",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "gone")
			if tt.files != nil {
				dir = codeTree(t, tt.files)
			}
			_, err := image.ResolveLaunch(catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Path: dir}, tt.cfg, tt.host)
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("ResolveLaunch error = %v; want kind %v", err, tt.wantKind)
			}
			if r := image.FailureReason(err); !strings.Contains(r, tt.wantReason) {
				t.Errorf("FailureReason = %q; want it to contain %q", r, tt.wantReason)
			}
		})
	}
}

// imageTree writes a root filesystem directory and its stored run configuration.
func imageTree(t *testing.T, c image.Config) string {
	t.Helper()
	rootfs := filepath.Join(t.TempDir(), "abc123")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(image.ConfigPath(rootfs), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

func TestResolveLaunch_Image(t *testing.T) {
	defaultPath := "PATH=" + image.DefaultPath
	tests := []struct {
		name    string
		cfg     image.Config
		wantCmd []string
		wantEnv []string
		wantWD  string
	}{
		{
			name:    "entrypoint and cmd are joined",
			cfg:     image.Config{Entrypoint: []string{"/usr/bin/tini", "--"}, Cmd: []string{"python", "app.py"}, WorkingDir: "/app"},
			wantCmd: []string{"/usr/bin/tini", "--", "python", "app.py"}, wantEnv: []string{defaultPath}, wantWD: "/app",
		},
		{
			name:    "entrypoint only",
			cfg:     image.Config{Entrypoint: []string{"/agent", "--port", "8080"}},
			wantCmd: []string{"/agent", "--port", "8080"}, wantEnv: []string{defaultPath}, wantWD: "/",
		},
		{
			name:    "cmd only",
			cfg:     image.Config{Cmd: []string{"/bin/sh", "-c", "exec uvicorn app:app"}},
			wantCmd: []string{"/bin/sh", "-c", "exec uvicorn app:app"}, wantEnv: []string{defaultPath}, wantWD: "/",
		},
		{
			name: "image PATH is kept",
			cfg: image.Config{
				Cmd: []string{"agent"}, Env: []string{"PATH=/opt/venv/bin:/usr/bin", "PYTHONUNBUFFERED=1"},
			},
			wantCmd: []string{"agent"}, wantEnv: []string{"PATH=/opt/venv/bin:/usr/bin", "PYTHONUNBUFFERED=1"}, wantWD: "/",
		},
		{
			name:    "image env without PATH gets the default",
			cfg:     image.Config{Cmd: []string{"agent"}, Env: []string{"LANG=C.UTF-8", "MYPATH=/x"}},
			wantCmd: []string{"agent"}, wantEnv: []string{"LANG=C.UTF-8", "MYPATH=/x", defaultPath}, wantWD: "/",
		},
		{
			name:    "relative working directory is made absolute",
			cfg:     image.Config{Cmd: []string{"agent"}, WorkingDir: "srv/app/"},
			wantCmd: []string{"agent"}, wantEnv: []string{defaultPath}, wantWD: "/srv/app",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rootfs := imageTree(t, tt.cfg)
			p := catalog.PreparedArtifact{Kind: catalog.ArtifactImage, Digest: "sha256:abc123", Ref: "reg/agent@sha256:abc123", Path: rootfs}
			// Images need no interpreters: nil proves the host is not consulted.
			got, err := image.ResolveLaunch(p, catalog.RuntimeConfig{}, nil)
			if err != nil {
				t.Fatalf("ResolveLaunch: %v", err)
			}
			want := image.Launch{RootFS: rootfs, Command: tt.wantCmd, Env: tt.wantEnv, WorkDir: tt.wantWD}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Launch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveLaunch_ImageErrors(t *testing.T) {
	tests := []struct {
		name       string
		artifact   func(t *testing.T) catalog.PreparedArtifact
		wantKind   error
		wantReason string
	}{
		{
			name: "neither entrypoint nor cmd",
			artifact: func(t *testing.T) catalog.PreparedArtifact {
				return catalog.PreparedArtifact{Kind: catalog.ArtifactImage, Ref: "reg/a@sha256:1", Path: imageTree(t, image.Config{WorkingDir: "/app"})}
			},
			wantKind: errdefs.ErrInvalidArgument, wantReason: "image has no entrypoint or cmd: reg/a@sha256:1 must set ENTRYPOINT or CMD",
		},
		{
			name: "empty program",
			artifact: func(t *testing.T) catalog.PreparedArtifact {
				return catalog.PreparedArtifact{Kind: catalog.ArtifactImage, Digest: "sha256:1", Path: imageTree(t, image.Config{Entrypoint: []string{""}, Cmd: []string{"x"}})}
			},
			wantKind: errdefs.ErrInvalidArgument, wantReason: "image sha256:1 names an empty program",
		},
		{
			name: "config file missing",
			artifact: func(t *testing.T) catalog.PreparedArtifact {
				dir := filepath.Join(t.TempDir(), "abc")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				return catalog.PreparedArtifact{Kind: catalog.ArtifactImage, Digest: "sha256:abc", Path: dir}
			},
			wantKind: errdefs.ErrUnavailable, wantReason: "the run configuration of image sha256:abc cannot be read",
		},
		{
			name: "root filesystem gone",
			artifact: func(t *testing.T) catalog.PreparedArtifact {
				return catalog.PreparedArtifact{Kind: catalog.ArtifactImage, Digest: "sha256:abc", Path: filepath.Join(t.TempDir(), "abc")}
			},
			wantKind: errdefs.ErrUnavailable, wantReason: "the prepared root filesystem of image sha256:abc is missing",
		},
		{
			name: "not prepared",
			artifact: func(*testing.T) catalog.PreparedArtifact {
				return catalog.PreparedArtifact{Kind: catalog.ArtifactImage}
			},
			wantKind: errdefs.ErrInvalidArgument, wantReason: "has not been prepared",
		},
		{
			name: "unknown kind",
			artifact: func(t *testing.T) catalog.PreparedArtifact {
				return catalog.PreparedArtifact{Kind: "wasm", Path: t.TempDir()}
			},
			wantKind: errdefs.ErrInvalidArgument, wantReason: `unknown kind "wasm"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := image.ResolveLaunch(tt.artifact(t), catalog.RuntimeConfig{}, pyHost)
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("ResolveLaunch error = %v; want kind %v", err, tt.wantKind)
			}
			if r := image.FailureReason(err); !strings.Contains(r, tt.wantReason) {
				t.Errorf("FailureReason = %q; want it to contain %q", r, tt.wantReason)
			}
		})
	}
}

func TestLaunch_Relocate(t *testing.T) {
	code := image.Launch{
		CodeDir:  "/srv/berth/code/ab",
		Command:  []string{"/usr/bin/python3.11", "/var/task/bin/otel", "main.py", "/var/taskforce/x"},
		Env:      []string{"PATH=/usr/bin:/bin", "PYTHONPATH=/var/task:/var/task/lib:/opt/x", "NODE_PATH=/var/task/node_modules", "NOEQUALS"},
		WorkDir:  "/var/task",
		Warnings: []string{"w"},
	}
	orig := image.Launch{
		CodeDir: code.CodeDir, Command: append([]string(nil), code.Command...), Env: append([]string(nil), code.Env...),
		WorkDir: code.WorkDir, Warnings: []string{"w"},
	}
	got := code.Relocate("/tmp/sess-1/code")
	want := image.Launch{
		CodeDir: "/srv/berth/code/ab",
		Command: []string{"/usr/bin/python3.11", "/tmp/sess-1/code/bin/otel", "main.py", "/var/taskforce/x"},
		Env: []string{
			"PATH=/usr/bin:/bin", "PYTHONPATH=/tmp/sess-1/code:/tmp/sess-1/code/lib:/opt/x",
			"NODE_PATH=/tmp/sess-1/code/node_modules", "NOEQUALS",
		},
		WorkDir:  "/tmp/sess-1/code",
		Warnings: []string{"w"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Relocate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(orig, code); diff != "" {
		t.Errorf("Relocate changed its receiver (-want +got):\n%s", diff)
	}

	img := image.Launch{RootFS: "/r", Command: []string{"/var/task/x"}, Env: []string{"A=/var/task"}, WorkDir: "/var/task"}
	if diff := cmp.Diff(img, img.Relocate("/elsewhere")); diff != "" {
		t.Errorf("Relocate changed an image launch (-want +got):\n%s", diff)
	}
}
