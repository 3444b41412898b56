package sandboxtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// creds is what the "status" probe reports: credentials from system calls, and the
// fields of /proc/self/status as text ("" where the kernel leaves one out, as gVisor
// does with NoNewPrivs and CapAmb).
type creds struct {
	UID    int   `json:"uid"`
	EUID   int   `json:"euid"`
	GID    int   `json:"gid"`
	EGID   int   `json:"egid"`
	ResUID []int `json:"resuid"` // real, effective, saved
	ResGID []int `json:"resgid"`
	// Capability sets from capget(2) and prctl(2), in hex, and the no_new_privs flag.
	CapInhSys string `json:"cap_inh"`
	CapPrmSys string `json:"cap_prm"`
	CapEffSys string `json:"cap_eff"`
	CapBndSys string `json:"cap_bnd"`
	CapAmbSys string `json:"cap_amb"`
	NNP       *int   `json:"nnp"`

	Uid        string `json:"Uid"` //nolint:revive // the /proc/self/status field name
	Gid        string `json:"Gid"` //nolint:revive // the /proc/self/status field name
	Groups     string `json:"Groups"`
	CapInh     string `json:"CapInh"`
	CapPrm     string `json:"CapPrm"`
	CapEff     string `json:"CapEff"`
	CapBnd     string `json:"CapBnd"`
	CapAmb     string `json:"CapAmb"`
	NoNewPrivs string `json:"NoNewPrivs"`
	Seccomp    string `json:"Seccomp"`
	Error      string `json:"error"`
}

// problems lists every way c is more privileged than a sandboxed agent may be: real,
// effective, saved (and, where /proc says, filesystem) ids all sandboxUID/sandboxGID, no
// supplementary group 0, no capability in any set, no_new_privs set. Both the system
// calls' answers and /proc/self/status's fields, where present, must agree.
func (c creds) problems() []string {
	var out []string
	for name, ids := range map[string]struct {
		sys  []int
		line string
		want int
	}{"uid": {c.ResUID, c.Uid, sandboxUID}, "gid": {c.ResGID, c.Gid, sandboxGID}} {
		if len(ids.sys) != 3 || slices.ContainsFunc(ids.sys, func(v int) bool { return v != ids.want }) {
			out = append(out, fmt.Sprintf("%s (real, effective, saved) = %v, want all %d", name, ids.sys, ids.want))
		}
		for _, v := range strings.Fields(ids.line) {
			if v != strconv.Itoa(ids.want) {
				out = append(out, fmt.Sprintf("/proc/self/status %s: %s, want all %d", name, ids.line, ids.want))
				break
			}
		}
	}
	if slices.Contains(strings.Fields(c.Groups), "0") {
		out = append(out, "supplementary groups include 0: "+c.Groups)
	}
	for _, set := range []struct{ name, sys, proc string }{
		{"inheritable", c.CapInhSys, c.CapInh}, {"permitted", c.CapPrmSys, c.CapPrm},
		{"effective", c.CapEffSys, c.CapEff}, {"bounding", c.CapBndSys, c.CapBnd}, {"ambient", c.CapAmbSys, c.CapAmb},
	} {
		if someCap(set.sys) || (set.proc != "" && someCap(set.proc)) {
			out = append(out, fmt.Sprintf("%s capabilities = %q (system call), %q (/proc/self/status), want none", set.name, set.sys, set.proc))
		}
	}
	if c.NNP == nil || *c.NNP != 1 || (c.NoNewPrivs != "" && c.NoNewPrivs != "1") {
		nnp := "unknown"
		if c.NNP != nil {
			nnp = strconv.Itoa(*c.NNP)
		}
		out = append(out, fmt.Sprintf("no_new_privs = %s (prctl), %q (/proc/self/status), want 1", nnp, c.NoNewPrivs))
	}
	if c.Error != "" {
		out = append(out, "/proc/self/status unreadable: "+c.Error)
	}
	return out
}

// someCap reports whether the hex capability set v is not empty (or unreadable).
func someCap(v string) bool {
	n, err := strconv.ParseUint(v, 16, 64)
	return err != nil || n != 0
}

// String summarises c for logs.
func (c creds) String() string {
	nnp := "?"
	if c.NNP != nil {
		nnp = strconv.Itoa(*c.NNP)
	}
	return fmt.Sprintf("uids %v, gids %v, CapEff %s, CapBnd %s, no_new_privs %s, Seccomp %q", c.ResUID, c.ResGID, c.CapEffSys, c.CapBndSys, nnp, c.Seccomp)
}

// The identity agents run as inside every isolating sandbox (package rootfs: nobody).
const (
	sandboxUID = 65534
	sandboxGID = 65534
)

// parseCreds decodes the status a copy of the agent printed (TESTAGENT_START=status).
func parseCreds(out string) (creds, error) {
	var c creds
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		return c, fmt.Errorf("decode status %q: %w", out, err)
	}
	return c, nil
}
