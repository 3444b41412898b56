// Package guestapi is the wire protocol between the microvm driver on the host and
// berth-guest, the init process inside each VM.
//
// Two kinds of connection carry it:
//
//   - The control channel, a virtio-serial port named ControlPort, carries JSON Messages,
//     one per line, in both directions: the guest says Ready once booted (before the
//     base snapshot), the host sends Start (agent config and limits, fresh entropy, the
//     time, the relay token), and the guest answers Started or StartFailed, then streams
//     the agent's Output and finally its Exit. To snapshot a VM whose agent runs, the host
//     sends Pause (the guest holds back Output and Exit and answers Paused, after which
//     nothing else comes); each clone restored from that snapshot gets Resume (a new relay
//     token, fresh entropy, the time), answered by Resumed, after which the held-back
//     messages flow. Forward asks for one more relayed loopback port (Network.Forwards)
//     once the agent runs, answered by Forwarded.
//   - Relay connections reach RelayPort on the guest's network card through a host-loopback
//     port forward. Each begins with a Hello line (which must carry the session's token, so
//     other local users who find the port get nothing) answered by a Reply line. For
//     OpDial the connection then carries the raw bytes of a TCP connection to the agent's
//     port; for OpExec, Frames.
package guestapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ControlPort is the name of the control channel's virtio-serial port.
const ControlPort = "berth.ctl"

// RelayPort is the TCP port berth-guest listens on, on the VM's network card, for relay
// connections. The agent sees that network card only when its egress is public
// (Network.Public), and then lacks the token.
const RelayPort = 1024

// Disk serials, by which the guest finds its disks.
const (
	RootDiskSerial = "berth-root"
	CodeDiskSerial = "berth-code"
)

// Message types on the control channel.
const (
	TypeReady       = "ready"        // guest → host: booted, waiting for Start
	TypeStart       = "start"        // host → guest
	TypeStarted     = "started"      // guest → host: the agent runs
	TypeStartFailed = "start-failed" // guest → host: the agent could not be started
	TypeOutput      = "output"       // guest → host: agent stdout (FD 1) or stderr (FD 2)
	TypeExit        = "exit"         // guest → host: the agent exited
	TypePause       = "pause"        // host → guest: hold back output, about to snapshot
	TypePaused      = "paused"       // guest → host: nothing more comes until Resume
	TypeResume      = "resume"       // host → guest, in a clone of a paused snapshot
	TypeResumed     = "resumed"      // guest → host: the clone has its own token and entropy
	// TypeClock (host → guest) sets the guest's wall clock again right after Started or
	// Resumed: the time in Start and Resume is late by their delivery to a guest just
	// restored (up to a few hundred milliseconds under TCG), a second message is not.
	TypeClock = "clock"
	// TypeForward (host → guest) asks for one more Forward once the agent runs (a service
	// the host opened for it afterwards); the guest answers TypeForwarded, with Error set
	// if it could not listen.
	TypeForward   = "forward"
	TypeForwarded = "forwarded"
)

// GatewayAddr is the host's address on QEMU's user-mode network. With an unrestricted
// network it stands for 127.0.0.1 of the network namespace QEMU runs in, where Berth
// serves the session's DNS forwarder, egress proxy and OTLP endpoint.
const GatewayAddr = "10.0.2.2"

// Message is one line on the control channel.
type Message struct {
	Type   string `json:"type"`
	Start  *Start `json:"start,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Error  string `json:"error,omitempty"`
	FD     int    `json:"fd,omitempty"`
	Data   []byte `json:"data,omitempty"`
	Code   int    `json:"code,omitempty"`   // exit status, or -1 when killed by a signal
	Signal int    `json:"signal,omitempty"` // the killing signal
	// OOM, with Exit, says the guest kernel's out-of-memory killer killed a process of
	// the session (the VM's memory is the session's memory limit).
	OOM    bool    `json:"oom,omitempty"`
	Resume *Resume `json:"resume,omitempty"`
	// Forward is TypeForward's port.
	Forward *Forward `json:"forward,omitempty"`
	// TimeUnixNano is the host's wall clock when a Clock message was sent.
	TimeUnixNano int64 `json:"timeUnixNano,omitempty"`
	// BadProgram, with StartFailed, says the agent's program could not be run (missing,
	// not executable, bad working directory): the spec's fault, not the guest's.
	BadProgram bool `json:"badProgram,omitempty"`
}

// Resume gives a clone of a snapshot taken after Start what must differ per session.
type Resume struct {
	Token        string `json:"token"`
	Entropy      []byte `json:"entropy"`
	TimeUnixNano int64  `json:"timeUnixNano"`
}

// Start starts the session's agent.
type Start struct {
	Argv    []string `json:"argv"`
	Env     []string `json:"env"`
	WorkDir string   `json:"workDir"`
	// CodeMount, if set, is where the code disk is mounted (usually WorkDir): read-only
	// under a copy-on-write layer of the session's, owned by UID.
	CodeMount string `json:"codeMount,omitempty"`
	UID       int    `json:"uid"`
	GID       int    `json:"gid"`
	// Token authenticates relay connections.
	Token string `json:"token"`
	// Entropy is credited to the guest's random pool, which is then reseeded: a snapshot's
	// clones must not share random state.
	Entropy []byte `json:"entropy"`
	// TimeUnixNano is the host's wall clock when Start was sent.
	TimeUnixNano int64 `json:"timeUnixNano"`
	// Pids, if positive, bounds the processes and threads of UID (RLIMIT_NPROC: the guest
	// has no cgroups, and every process of UID belongs to the session).
	Pids int64 `json:"pids,omitempty"`
	// DiskBytes, if positive, is the size of the writable layer (the root's changes and
	// /tmp, a tmpfs in guest RAM).
	DiskBytes int64 `json:"diskBytes,omitempty"`
	// Network is how the agent reaches out; nil: not at all (a loopback-only namespace).
	Network *Network `json:"network,omitempty"`
}

// Network is a session's egress as the guest implements it.
type Network struct {
	// Public runs the agent and Exec commands in the guest's own network namespace, whose
	// default route leads through the user-mode network, instead of a loopback-only one.
	Public bool `json:"public,omitempty"`
	// Forwards are ports of the agent's loopback that berth-guest serves, before the agent
	// starts, and relays to the same port of GatewayAddr: services of the host's for the
	// agent (DNS, the egress proxy).
	Forwards []Forward `json:"forwards,omitempty"`
}

// Forward is one relayed loopback port.
type Forward struct {
	// Addr is where the guest listens, in the agent's network namespace: an IPv4 literal
	// and port ("127.0.0.1:53"). It relays to the same port of GatewayAddr.
	Addr string `json:"addr"`
	// UDP relays datagrams as well as TCP connections (DNS).
	UDP bool `json:"udp,omitempty"`
}

// Relay operations.
const (
	OpDial = "dial"
	OpExec = "exec"
)

// Hello opens a relay connection.
type Hello struct {
	Token string `json:"token"`
	Op    string `json:"op"`
	Port  int    `json:"port,omitempty"` // OpDial: the agent-side TCP port
	Exec  *Exec  `json:"exec,omitempty"`
}

// Exec is a command to run next to the agent: same root, network, user and environment
// (plus Env).
type Exec struct {
	Argv    []string `json:"argv"`
	Env     []string `json:"env,omitempty"`
	WorkDir string   `json:"workDir,omitempty"`
}

// Reply answers a Hello.
type Reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// BadProgram says an Exec's program could not be run (see Message.BadProgram).
	BadProgram bool `json:"badProgram,omitempty"`
}

// Frame kinds of an exec relay connection.
const (
	FrameStdin    byte = 0 // host → guest
	FrameStdinEOF byte = 1 // host → guest
	FrameStdout   byte = 2 // guest → host
	FrameStderr   byte = 3 // guest → host
	FrameExit     byte = 4 // guest → host: 4-byte big-endian exit code, then nothing more
)

// MaxFrame is the largest frame payload.
const MaxFrame = 1 << 20

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, kind byte, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds %d", len(payload), MaxFrame)
	}
	buf := make([]byte, 5+len(payload))
	buf[0] = kind
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (kind byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, errors.New("frame too large")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}
