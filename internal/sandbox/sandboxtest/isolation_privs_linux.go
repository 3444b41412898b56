package sandboxtest

import (
	"berth.dev/berth/internal/sandbox"
)

// The agent of Options.Spec runs unprivileged and cannot escalate; the setuid-root copy
// next to it, if the Spec ships it, gains nothing.
func testEscalationSpec(h *harness) {
	h.checkEscalation(h.startMarked(sandbox.Spec{}), false)
}

// The agent of an image runs unprivileged and cannot escalate, not even through the
// setuid-root binary the image holds at /suid-agent.
func testEscalationImage(h *harness) {
	im := newImageTree(h.t, h.agentBin)
	h.checkEscalation(h.startMarked(im.spec(h.t, h.opts)), true)
}

// checkEscalation checks s's credentials, then tries setuid(0), mount, new namespaces and
// the setuid-root copy of the agent; setuidShipped says whether that copy must be there.
func (h *harness) checkEscalation(s *marked, setuidShipped bool) {
	c := h.status(s)
	h.t.Logf("agent: %s", c)
	for _, p := range c.problems() {
		h.t.Errorf("agent: %s", p)
	}

	var su struct {
		Setuid, Setgid, Setgroups attempt
		Status                    creds
	}
	h.probe(s, "setuid", nil, &su)
	for name, a := range map[string]attempt{"setuid(0)": su.Setuid, "setgid(0)": su.Setgid, "setgroups([0])": su.Setgroups} {
		if a.OK {
			h.t.Errorf("agent: %s succeeded", name)
		}
	}

	var m struct{ Mount, Fsopen attempt }
	h.probe(s, "mount", map[string]any{"path": h.id(s).Cwd}, &m)
	if m.Mount.OK {
		h.t.Error("agent: mount(tmpfs) over its working directory succeeded")
	}
	if m.Fsopen.OK {
		h.t.Error(`agent: fsopen("tmpfs") succeeded`)
	}
	h.t.Logf("agent: mount %s, fsopen %s", m.Mount, m.Fsopen)

	for _, flags := range [][]string{{"CLONE_NEWNS"}, {"CLONE_NEWNET"}, {"CLONE_NEWPID"}} {
		if a := h.unshare(s, flags...); a.OK {
			h.t.Errorf("agent: unshare(%v) succeeded", flags)
		}
	}
	for _, flags := range [][]string{{"CLONE_NEWUSER"}, {"CLONE_NEWUSER", "CLONE_NEWNS"}} {
		if r := h.clone(s, flags...); r.OK {
			h.t.Errorf("agent: clone(%v) succeeded; the child reported %s", flags, r.Output)
		} else {
			h.t.Logf("agent: clone(%v) %s", flags, r.attempt)
		}
	}

	r := h.exec(s, setuidName, "TESTAGENT_START=status")
	switch {
	case !r.OK && r.Errno == "ENOENT" && !setuidShipped:
		h.t.Logf("no %s next to the agent (%s): Options.Spec does not ship the agent's directory, so the setuid binary was not tried", setuidName, r.Path)
	case !r.OK && r.ExitCode == -1:
		if r.Errno == "ENOENT" {
			h.t.Errorf("the image's %s is missing inside the sandbox (%s)", setuidName, r.Path)
		}
		h.t.Logf("the setuid-root %s did not run: %s", r.Path, r.attempt)
	default:
		sc, err := parseCreds(r.Stdout)
		if err != nil {
			h.t.Fatalf("setuid-root %s exited %d: %v; stderr %q", r.Path, r.ExitCode, err, r.Stderr)
		}
		h.t.Logf("setuid-root %s ran with %s", r.Path, sc)
		for _, p := range sc.problems() {
			h.t.Errorf("setuid-root %s: %s", r.Path, p)
		}
	}
}
