package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// knownDrivers are the sandbox drivers the harness tries, in this order. A driver that
// berth does not compile in, or that cannot run on this host, is reported and skipped; a new
// driver needs only a new name here.
var knownDrivers = []string{"process", "linuxns", "gvisor", "microvm"}

// config is what the command line chose.
type config struct {
	Short   bool
	Keep    bool // keep the scratch directory (servers' data and logs) and name it
	Out     string
	Only    *regexp.Regexp // nil: every scenario
	Drivers *regexp.Regexp // nil: every known driver
	Logger  *slog.Logger
}

// outputs are the files a run wrote and the report they hold.
type outputs struct {
	JSON, Markdown string
	Report         *stats.Report
}

// suite is the state one run shares between scenarios.
type suite struct {
	cfg     config
	log     *slog.Logger
	report  *stats.Report
	bins    *harness.Binaries
	scratch string
	envs    []*harness.Env    // one per available driver, in knownDrivers order (pools off)
	missing map[string]string // driver → why it is not measured
	agents  map[string]*deployed
	pythons map[string]string // driver → the interpreter Berth runs the Python agent with
	figs    figures
	ran     map[string]bool // scenarios run
	servers int             // servers started so far (egressOf)
}

// deployed are the runtimes of one driver's server.
type deployed struct {
	goARN, pyARN, heavyARN string
}

// scenario is one named part of the run.
type scenario struct {
	name string
	run  func(ctx context.Context, s *suite) error
}

// scenarios in the order they run: the control plane last, since it leaves 1,000 runtimes.
func scenarios() []scenario {
	return []scenario{
		{"cold-start", coldStart},
		{"heavy-python", heavyPython},
		{"warm-pool", warmPool},
		{"creation-rate", creationRate},
		{"density", density},
		{"load", runLoad},
		{"control-plane", controlPlane},
	}
}

// run builds, starts the servers, runs the chosen scenarios, judges the targets and writes
// the report. A failing scenario is recorded in the report and the run goes on; run then
// returns an error naming every failure, after writing the report.
func run(ctx context.Context, cfg config) (outputs, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// A short name: the microvm driver's unix sockets live under the data directory, and
	// a socket path may not exceed 107 bytes.
	scratch, err := os.MkdirTemp(scratchBase(), "bench-")
	if err != nil {
		return outputs{}, fmt.Errorf("scratch dir: %w", err)
	}
	defer func() {
		if cfg.Keep {
			log.Info("scratch directory kept", "dir", scratch)
			return
		}
		_ = os.RemoveAll(scratch)
	}()

	log.Info("building berth and the test agent")
	bins, err := harness.Build(ctx, filepath.Join(scratch, "bin"))
	if err != nil {
		return outputs{}, err
	}
	r := &stats.Report{StartedAt: start.UTC(), Short: cfg.Short, Machine: harness.DescribeMachine(ctx, bins.Version)}
	s := &suite{cfg: cfg, log: log, report: r, bins: bins, scratch: scratch, missing: map[string]string{},
		agents: map[string]*deployed{}, pythons: map[string]string{}, figs: newFigures(), ran: map[string]bool{}}
	defer s.closeEnvs()
	s.startDrivers(ctx)
	if len(s.envs) == 0 {
		return outputs{}, fmt.Errorf("no sandbox driver could start: %v", s.missing)
	}

	var failures []error
	for _, sc := range scenarios() {
		if cfg.Only != nil && !cfg.Only.MatchString(sc.name) {
			continue
		}
		if ctx.Err() != nil {
			failures = append(failures, ctx.Err())
			break
		}
		log.Info("scenario", "name", sc.name)
		t0 := time.Now()
		if err := sc.run(ctx, s); err != nil {
			log.Error("scenario failed", "name", sc.name, "err", err)
			r.Add(stats.Result{Scenario: sc.name, Case: "error", Note: err.Error()})
			failures = append(failures, fmt.Errorf("%s: %w", sc.name, err))
			continue
		}
		s.ran[sc.name] = true
		log.Info("scenario done", "name", sc.name, "took", time.Since(t0).Round(time.Millisecond))
	}
	judge(s)
	r.Duration = time.Since(start).Round(time.Second).String()
	jsonPath, mdPath, err := harness.WriteReport(cfg.Out, r)
	if err != nil {
		failures = append(failures, err)
	}
	return outputs{JSON: jsonPath, Markdown: mdPath, Report: r}, errors.Join(failures...)
}

// startDrivers starts one server per known driver, with warm pools off (every new session
// is a pool miss); those that cannot start are noted.
func (s *suite) startDrivers(ctx context.Context) {
	compiled, err := s.bins.CompiledDrivers(ctx, s.scratch)
	if err != nil {
		s.log.Warn("cannot list the compiled-in drivers; trying each", "err", err)
	}
	for _, d := range knownDrivers {
		var why string
		switch {
		case s.cfg.Drivers != nil && !s.cfg.Drivers.MatchString(d):
			why = "not selected (-drivers)"
		case compiled != nil && !slices.Contains(compiled, d):
			why = "driver not built yet (not compiled into berth)"
		}
		var env *harness.Env
		if why == "" {
			env, why = s.startServer(ctx, d, false)
		}
		if why != "" {
			s.missing[d] = why
			s.log.Info("driver not measured", "driver", d, "why", why)
			continue
		}
		s.envs = append(s.envs, env)
	}
}

// startServer starts a berth server for driver: with pools off (--pool-size 0; logging at
// info, for the "session started" lines), or with warm pools on (one pooled sandbox per
// endpoint, a memory budget that never limits it, logging at debug for the "pooled sandbox
// ready" lines). It returns why not when the server cannot start.
func (s *suite) startServer(ctx context.Context, driver string, pools bool) (*harness.Env, string) {
	opts := harness.Options{Driver: driver, Dir: filepath.Join(s.scratch, driver), Logger: s.log, MaxSessions: 5000,
		LogLevel: "info", ExtraArgs: []string{"--pool-size", "0"}}
	if pools {
		opts.Dir = filepath.Join(s.scratch, driver+"-pool")
		opts.LogLevel = "debug"
		opts.ExtraArgs = []string{"--pool-size", "1", "--pool-memory-bytes", strconv.FormatInt(1<<40, 10)}
	}
	opts.ExtraArgs = append(opts.ExtraArgs, s.egressOf()...)
	if driver == "microvm" {
		if why := s.microvmOptions(ctx, &opts); why != "" {
			return nil, why
		}
	}
	env, err := harness.Start(ctx, s.bins, opts)
	if err != nil {
		reason := err.Error()
		if strings.Contains(reason, "unknown sandbox driver") {
			return nil, "driver not built yet"
		}
		return nil, "cannot run here: " + reason
	}
	return env, ""
}

// egressOf gives the next server its own egress tag and subnet: servers side by side on one
// host must not share them (Berth refuses a tag another server holds), and neither may
// this run's and another process's (a CI run's smoke test beside a server test). The tag
// is "b", two base-36 digits of the process id and the server's number; the subnet, a /20
// (1,024 PUBLIC sandboxes at once, enough for the density scenario) in 10.240–249.x, keyed
// the same way.
func (s *suite) egressOf() []string {
	n := s.servers % 10
	s.servers++
	p := os.Getpid()
	tag := "b" + strconv.FormatInt(int64(36*36+p%(36*36)), 36)[1:] + strconv.Itoa(n)
	subnet := fmt.Sprintf("10.%d.%d.0/20", 240+n, (p%16)*16)
	return []string{"--egress-tag", tag, "--egress-subnet", subnet}
}

func (s *suite) closeEnvs() {
	for _, e := range s.envs {
		if err := e.Close(); err != nil {
			s.log.Warn("stop server", "driver", e.Driver, "err", err)
		}
	}
}

// deployedOn deploys (once per server) the Go agent image and the Python agents' zips.
func (s *suite) deployedOn(ctx context.Context, env *harness.Env) (*deployed, error) {
	if d, ok := s.agents[env.Driver]; ok {
		return d, nil
	}
	d, err := deployAgents(ctx, env)
	if err != nil {
		return nil, err
	}
	s.agents[env.Driver] = d
	return d, nil
}

// deployAgents deploys the Go agent image and the Python agents' zips on env's server.
func deployAgents(ctx context.Context, env *harness.Env) (*deployed, error) {
	var d deployed
	var err error
	if d.goARN, err = env.DeployGoAgent(ctx, "bench_go", nil); err != nil {
		return nil, err
	}
	if d.pyARN, err = env.DeployPythonAgent(ctx, "bench_py", nil); err != nil {
		return nil, err
	}
	if d.heavyARN, err = env.DeployHeavyPythonAgent(ctx, "bench_heavy_py", nil); err != nil {
		return nil, err
	}
	return &d, nil
}

// arnOf is the runtime of one of the benchmark agents.
func (d *deployed) arnOf(agent string) string {
	switch agent {
	case agentPy:
		return d.pyARN
	case agentHeavy:
		return d.heavyARN
	default:
		return d.goARN
	}
}

// pythonOn asks the Python agent running under env's driver which interpreter runs it.
func (s *suite) pythonOn(ctx context.Context, env *harness.Env) (string, error) {
	if p, ok := s.pythons[env.Driver]; ok {
		return p, nil
	}
	d, err := s.deployedOn(ctx, env)
	if err != nil {
		return "", err
	}
	sid := harness.NewSessionID()
	t, err := env.Invoke(ctx, d.pyARN, sid, "application/json", []byte(`{"op":"info"}`))
	if err != nil {
		return "", err
	}
	defer func() { _ = env.StopSession(ctx, d.pyARN, sid) }()
	var info struct {
		Executable string `json:"executable"`
	}
	if err := json.Unmarshal(t.Body, &info); err != nil || info.Executable == "" {
		return "", fmt.Errorf("python agent info %q: %w", t.Body, err)
	}
	s.pythons[env.Driver] = info.Executable
	return info.Executable, nil
}

// baselinePython is the interpreter the baselines run the Python agents with: the one the
// linuxns driver runs (its Python target compares it with the bare process), else another
// isolating driver's, else any driver's, else python3 from $PATH when no driver could run
// the agent (Debian's /usr/bin/python3 first, which the isolating drivers also run). Drivers
// that bind the host's /usr see the host's interpreter at the same path; the process driver
// may find another on $PATH.
func (s *suite) baselinePython(ctx context.Context) (string, error) {
	order := slices.Clone(s.envs)
	rank := func(e *harness.Env) int {
		if i := slices.Index([]string{"linuxns", "gvisor", "microvm"}, e.Driver); i >= 0 {
			return i
		}
		return 3
	}
	slices.SortStableFunc(order, func(a, b *harness.Env) int { return rank(a) - rank(b) })
	var errs []error
	for _, env := range order {
		p, err := s.pythonOn(ctx, env)
		if err == nil {
			return p, nil
		}
		errs = append(errs, fmt.Errorf("%s driver: %w", env.Driver, err))
	}
	for _, name := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(name); err == nil {
			s.log.Warn("no driver ran the Python agent; the baselines use "+p, "err", errors.Join(errs...))
			return p, nil
		}
	}
	return "", fmt.Errorf("no Python interpreter for the baselines: %w", errors.Join(errs...))
}

// eachDriver runs f for every isolating driver's server (scenario names the report rows);
// one that fails does not keep the others from being measured. It returns the failures,
// each named by its driver. The process driver, Berth's unisolated development driver, is
// left out when an isolating driver runs too — its cold-start and pool figures are the
// floor of Berth's own cost, and measuring it in the load, density and creation scenarios
// as well would put make bench over its 15 minutes; `-drivers process` measures it alone.
func (s *suite) eachDriver(scenario string, f func(env *harness.Env) error) error {
	var errs []error
	for _, env := range s.envs {
		if s.sitsOut(env.Driver) {
			s.report.Add(stats.Result{Scenario: scenario, Case: berthMethodName(env.Driver) + ": not measured",
				Note: "the unisolated development driver is measured here only when it runs alone (-drivers process)"})
			continue
		}
		if err := f(env); err != nil {
			errs = append(errs, fmt.Errorf("%s driver: %w", env.Driver, err))
		}
	}
	return errors.Join(errs...)
}

// sitsOut reports whether eachDriver leaves driver out: the process driver beside an
// isolating one.
func (s *suite) sitsOut(driver string) bool { return driver == "process" && len(s.envs) > 1 }

// counts picks the full or the short figure.
func (s *suite) counts(full, short int) int {
	if s.cfg.Short {
		return short
	}
	return full
}

// scratchBase is where the run's scratch directory goes: /var/tmp when it exists, because
// the sandboxed baselines mount a fresh /tmp over the host's and must still see the agents
// (with the host / as their root, a tmpfs on /tmp hides everything below it); else the
// default temporary directory.
func scratchBase() string {
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		return "/var/tmp"
	}
	return ""
}
