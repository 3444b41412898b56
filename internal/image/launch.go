package image

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

// CodeMount is where a code zip's tree appears inside a sandbox and the working directory of
// its agent: /var/task, where AWS Lambda and AgentCore's managed runtimes put the code.
const CodeMount = "/var/task"

// SandboxWorkDir is the agent's working directory in a sandbox: workDir when the launch
// names one, else CodeMount for a code zip and / for an image without a WORKDIR.
func SandboxWorkDir(workDir string, hasCode bool) string {
	switch {
	case workDir != "":
		return workDir
	case hasCode:
		return CodeMount
	}
	return "/"
}

// DefaultPath is the PATH of an image whose configuration sets none (as Docker does), and the
// end of a code zip's PATH.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Launch is what to run for one version, before per-session additions: the caller appends
// the version's environmentVariables and the platform variables of AGENTCORE-WIRE.md §4.8
// to Env (later entries win), and takes ports from catalog.EffectiveProtocol.
//
// For a code zip, every path in Env that points into the code is WorkDir (CodeMount) or
// below it, and Command names files of the code only relative to WorkDir; Command[0] is an
// absolute path of the host's filesystem. A driver that cannot mount CodeDir at WorkDir (the
// process driver runs a per-session copy of it) uses Relocate.
type Launch struct {
	RootFS   string   // image root filesystem tree; "" for code zips, which run on the host's or the driver's base filesystem
	CodeDir  string   // extracted code tree of a code zip, to mount read-only at WorkDir; "" for images
	Command  []string // argv
	Env      []string // KEY=VALUE: the image's Env (with a default PATH), or for a code zip PATH and PYTHONPATH or NODE_PATH
	WorkDir  string   // the image's WorkingDir ("/" when unset), or CodeMount for code zips
	Warnings []string // what differs from what the version asked for, for the session's log
}

// ResolveLaunch turns a version's prepared artifact and configuration into what a sandbox
// must run. host finds interpreters for code zips; it is not used for images.
//
// Images follow OCI and Docker semantics: Command is Entrypoint followed by Cmd, Env the
// image's Env plus PATH=DefaultPath when it sets no PATH, WorkDir its WorkingDir or "/".
//
// Code zips run "<interpreter> <entry file>" in CodeMount, the entry file being the last
// entryPoint token. The interpreter is host.Find(runtime): the requested version, or the
// closest one with a warning. A two-token entryPoint names a wrapper first:
//   - an interpreter name (python, python3, python3.N, node, nodejs) is dropped: Berth picks
//     the interpreter;
//   - for Python, a wrapper vendored in the zip (bin/<name>, where pip and uv --target put
//     console scripts, or a relative path inside the zip) runs with the interpreter, because
//     its shebang names the machine that built the zip:
//     [python, bin/<name>, python, <entry>]. The interpreter is passed to the wrapper by
//     absolute path, so opentelemetry-instrument finds it without PATH;
//   - else, for a bare name, a program of that name on the host (host implements
//     ToolFinder) runs directly, with a warning: [<host path>, python, <entry>];
//   - else the wrapper is dropped with a warning. Node.js runtimes accept no other wrapper.
//
// PYTHONPATH=CodeMount (vendored packages sit at the root of the zip) or
// NODE_PATH=CodeMount/node_modules, and PATH (the interpreter's directory, then
// DefaultPath) make up Env.
//
// Errors are *Error values (FailureReason gives the human message): ErrInvalidArgument for a
// configuration that cannot run, ErrUnavailable for a prepared tree that is gone or a host
// without an interpreter.
func ResolveLaunch(p catalog.PreparedArtifact, cfg catalog.RuntimeConfig, host Interpreters) (Launch, error) {
	if p.Path == "" {
		return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "the version's artifact has not been prepared")
	}
	switch p.Kind {
	case catalog.ArtifactImage:
		return resolveImage(p)
	case catalog.ArtifactCode:
		return resolveCode(p, cfg, host)
	}
	return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "prepared artifact has unknown kind %q", p.Kind)
}

func resolveImage(p catalog.PreparedArtifact) (Launch, error) {
	name := p.Ref
	if name == "" {
		name = p.Digest
	}
	if err := checkTree(p.Path, "root filesystem of image "+name); err != nil {
		return Launch{}, err
	}
	c, err := ReadConfig(p.Path)
	if err != nil {
		return Launch{}, fail(errdefs.ErrUnavailable, err, "the run configuration of image %s cannot be read", name)
	}
	cmd := append(slices.Clone(c.Entrypoint), c.Cmd...)
	switch {
	case len(cmd) == 0:
		return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "image has no entrypoint or cmd: %s must set ENTRYPOINT or CMD", name)
	case cmd[0] == "":
		return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "image %s names an empty program as its entrypoint or cmd", name)
	}
	env := slices.Clone(c.Env)
	if !hasEnv(env, "PATH") {
		env = append(env, "PATH="+DefaultPath)
	}
	wd := "/"
	if c.WorkingDir != "" {
		wd = path.Clean("/" + c.WorkingDir)
	}
	return Launch{RootFS: p.Path, Command: cmd, Env: env, WorkDir: wd}, nil
}

// checkTree reports a prepared tree that is missing, as after a GC that raced the caller.
func checkTree(dir, what string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail(errdefs.ErrUnavailable, err, "the prepared %s is missing from %s; prepare the version again", what, dir)
	case err != nil:
		return fail(errdefs.ErrUnavailable, err, "the prepared %s cannot be read", what)
	case !fi.IsDir():
		return fail(errdefs.ErrUnavailable, nil, "the prepared %s at %s is not a directory", what, dir)
	}
	return nil
}

func hasEnv(env []string, key string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}

// Relocate returns l with the code moved from WorkDir to dir, for a driver that runs a copy
// of CodeDir at dir instead of mounting it at WorkDir: WorkDir, and every path at or below
// WorkDir in Command and in Env values (including each element of a ':' list), are
// rewritten. Launches of images are returned unchanged.
func (l Launch) Relocate(dir string) Launch {
	if l.CodeDir == "" || l.WorkDir == "" {
		return l
	}
	from := l.WorkDir
	move := func(p string) string {
		if p == from {
			return dir
		}
		if rest, ok := strings.CutPrefix(p, from+"/"); ok {
			return path.Join(dir, rest)
		}
		return p
	}
	out := l
	out.WorkDir = dir
	out.Command = make([]string, len(l.Command))
	for i, a := range l.Command {
		out.Command[i] = move(a)
	}
	out.Env = make([]string, len(l.Env))
	for i, kv := range l.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			out.Env[i] = kv
			continue
		}
		parts := strings.Split(v, ":")
		for j, p := range parts {
			parts[j] = move(p)
		}
		out.Env[i] = k + "=" + strings.Join(parts, ":")
	}
	out.Warnings = slices.Clone(l.Warnings)
	return out
}
