package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
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
	Short  bool
	Out    string
	Only   *regexp.Regexp // nil: every scenario
	Logger *slog.Logger
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
	envs    []*harness.Env    // one per available driver, in knownDrivers order
	missing map[string]string // driver → why it is not measured
	agents  map[string]*deployed
	python  string // the interpreter Berth runs the Python agent with
	figs    figures
	ran     map[string]bool // scenarios run
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
	scratch, err := os.MkdirTemp(scratchBase(), "berth-bench-")
	if err != nil {
		return outputs{}, fmt.Errorf("scratch dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(scratch) }()

	log.Info("building berth and the test agent")
	bins, err := harness.Build(ctx, filepath.Join(scratch, "bin"))
	if err != nil {
		return outputs{}, err
	}
	r := &stats.Report{StartedAt: start.UTC(), Short: cfg.Short, Machine: harness.DescribeMachine(ctx, bins.Version)}
	s := &suite{cfg: cfg, log: log, report: r, bins: bins, scratch: scratch,
		missing: map[string]string{}, agents: map[string]*deployed{}, figs: newFigures(), ran: map[string]bool{}}
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

// startDrivers starts one server per known driver; those that cannot start are noted.
func (s *suite) startDrivers(ctx context.Context) {
	for _, d := range knownDrivers {
		env, err := harness.Start(ctx, s.bins, harness.Options{
			Driver: d, Dir: filepath.Join(s.scratch, d), Logger: s.log, MaxSessions: 5000,
		})
		if err != nil {
			reason := err.Error()
			if strings.Contains(reason, "unknown sandbox driver") {
				reason = "driver not built yet"
			}
			s.missing[d] = reason
			s.log.Info("driver not measured", "driver", d, "why", reason)
			continue
		}
		s.envs = append(s.envs, env)
	}
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
	s.agents[env.Driver] = &d
	return &d, nil
}

// pythonExecutable asks the Python agent running under Berth which interpreter runs it, so
// the baselines run the same one.
func (s *suite) pythonExecutable(ctx context.Context) (string, error) {
	if s.python != "" {
		return s.python, nil
	}
	env := s.envs[0]
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
	s.python = info.Executable
	return s.python, nil
}

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
