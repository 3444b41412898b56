package microvm

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// vmSandbox is one session's VM.
type vmSandbox struct {
	d       *Driver
	id      string
	shape   shape
	dir     string
	m       vmm.Machine
	ctl     net.Conn
	console *tailbuf.Buffer
	token   string
	relay   string // host address forwarded to the guest's relay port
	stdout  io.Writer
	stderr  io.Writer
	state   json.RawMessage
	// network is the network namespace QEMU runs in, nil without a network provider.
	// Stop closes it if ownsNetwork (Start hands it over once the sandbox runs).
	network     sandbox.Network
	ownsNetwork bool

	requestMu sync.Mutex            // one request at a time
	replies   chan guestapi.Message // the guest's answers to requests
	// prelude is the agent's output from before its snapshot, written out on Resumed,
	// before what the agent writes after it.
	prelude    []outputChunk
	done       chan struct{}
	readerDone chan struct{}
	exitOnce   sync.Once
	exitErr    atomic.Pointer[sandbox.ExitError]

	stopping atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

var (
	_ sandbox.Sandbox = (*vmSandbox)(nil)
	_ sandbox.Execer  = (*vmSandbox)(nil)
)

// reclaimState is State's content.
type reclaimState struct {
	ID    string `json:"id"`
	Dir   string `json:"dir"`
	PID   int    `json:"pid"`
	Start string `json:"start"` // /proc/<pid>/stat start time, against pid reuse
}

// newSandbox starts handling the control channel of the VM m. prelude is output to write
// on Resumed (restores of agent snapshots).
func newSandbox(d *Driver, spec sandbox.Spec, sh shape, dir string, m vmm.Machine, network sandbox.Network, console *tailbuf.Buffer, prelude []outputChunk) *vmSandbox {
	s := &vmSandbox{
		d: d, id: spec.ID, shape: sh, dir: dir, m: m, network: network, console: console, prelude: prelude,
		ctl:        m.Channel(guestapi.ControlPort),
		token:      rand.Text(),
		relay:      net.JoinHostPort("127.0.0.1", strconv.Itoa(m.HostPort(guestapi.RelayPort))),
		stdout:     spec.Stdout,
		stderr:     spec.Stderr,
		replies:    make(chan guestapi.Message, 1),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if s.stdout == nil {
		s.stdout = io.Discard
	}
	if s.stderr == nil {
		s.stderr = io.Discard
	}
	_, start, _ := procStat(m.PID())
	s.state, _ = json.Marshal(reclaimState{ID: spec.ID, Dir: dir, PID: m.PID(), Start: start})
	go s.readControl()
	return s
}

// readControl handles the guest's messages until the control channel closes, which
// happens when the VM ends.
func (s *vmSandbox) readControl() {
	defer close(s.readerDone)
	sc := bufio.NewScanner(s.ctl)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var m guestapi.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue
		}
		switch m.Type {
		case guestapi.TypeStarted, guestapi.TypeStartFailed, guestapi.TypePaused, guestapi.TypeResumed, guestapi.TypeForwarded:
			if m.Type == guestapi.TypeResumed && m.Error == "" {
				s.replay()
			}
			select {
			case s.replies <- m:
			default:
			}
		case guestapi.TypeOutput:
			w := s.stdout
			if m.FD == 2 {
				w = s.stderr
			}
			_, _ = w.Write(m.Data)
		case guestapi.TypeExit:
			s.finish(agentExit(m, int64(s.shape.memMB)<<20))
		}
	}
	<-s.m.Done()
	if s.stopping.Load() {
		s.finish(&sandbox.ExitError{Code: -1, Detail: detailStopped})
		return
	}
	s.finish(&sandbox.ExitError{Code: -1, Detail: fmt.Sprintf("the VM ended: %v; console: %s", s.m.Err(), s.console)})
}

// replay writes the prelude to the sandbox's output.
func (s *vmSandbox) replay() {
	for _, c := range s.prelude {
		w := s.stdout
		if c.FD == 2 {
			w = s.stderr
		}
		_, _ = w.Write(c.Data)
	}
	s.prelude = nil
}

// finish records how the agent ended, once, and closes Done.
func (s *vmSandbox) finish(e *sandbox.ExitError) {
	s.exitOnce.Do(func() {
		s.exitErr.Store(e)
		close(s.done)
	})
}

// ID implements sandbox.Sandbox.
func (s *vmSandbox) ID() string { return s.id }

// Done implements sandbox.Sandbox.
func (s *vmSandbox) Done() <-chan struct{} { return s.done }

// ExitErr implements sandbox.Sandbox.
func (s *vmSandbox) ExitErr() error {
	select {
	case <-s.done:
	default:
		return nil
	}
	if e := s.exitErr.Load(); !clean(e) {
		return e
	}
	return nil
}

// State implements sandbox.Sandbox.
func (s *vmSandbox) State() json.RawMessage { return s.state }

// Stop implements sandbox.Sandbox: it kills QEMU, waits for it, closes the sandbox's
// network and removes its directory.
func (s *vmSandbox) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		_ = s.m.Kill()
		<-s.readerDone
		var errs []error
		if s.ownsNetwork && s.network != nil {
			if err := s.network.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			s.stopErr = fmt.Errorf("microvm: stop %s: %w", s.id, err)
		}
	})
	return s.stopErr
}

// DialContext implements sandbox.Sandbox: it connects through the guest's relay, which
// dials 127.0.0.1:port inside the agent's network namespace.
func (s *vmSandbox) DialContext(ctx context.Context, network string, port int) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" {
		return nil, fmt.Errorf("microvm: dial %s: only tcp", network)
	}
	return s.relayConn(ctx, guestapi.Hello{Op: guestapi.OpDial, Port: port})
}

// errNoAnswer is a relay handshake that got no answer: slirp accepts the host connection
// before the guest does, and a SYN sent to a guest that was just restored can be lost.
var errNoAnswer = errors.New("no answer from the guest relay")

// relayConn opens a relay connection and performs its handshake, retrying handshakes the
// guest never answered (with growing timeouts) until ctx ends.
func (s *vmSandbox) relayConn(ctx context.Context, h guestapi.Hello) (net.Conn, error) {
	h.Token = s.token
	hello, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	hello = append(hello, '\n')
	// Longer than berth-guest's wait for a refused port (500 ms), so that answer is seen.
	wait := 1500 * time.Millisecond
	for {
		select {
		case <-s.done:
			if s.stopping.Load() {
				return nil, fmt.Errorf("microvm: %s: %s", s.id, detailStopped)
			}
		default:
		}
		c, err := s.handshake(ctx, hello, wait)
		if !errors.Is(err, errNoAnswer) || ctx.Err() != nil {
			return c, err
		}
		s.d.log.DebugContext(ctx, "no answer from the guest relay; trying again", "id", s.id, "waited", wait)
		if s.stopping.Load() {
			return nil, fmt.Errorf("microvm: %s: %s", s.id, detailStopped)
		}
		wait = min(2*wait, 8*time.Second)
	}
}

func (s *vmSandbox) handshake(ctx context.Context, hello []byte, wait time.Duration) (net.Conn, error) {
	c, err := s.dialRelay(ctx)
	if err != nil {
		return nil, fmt.Errorf("microvm: relay: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write(hello); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("microvm: relay: %w", err)
	}
	// Read the answer byte by byte: what follows it belongs to the caller.
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := c.Read(b); err != nil {
			_ = c.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, io.EOF) {
				return nil, errNoAnswer
			}
			return nil, fmt.Errorf("microvm: relay: %w", err)
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	_ = c.SetDeadline(time.Time{})
	var r guestapi.Reply
	if err := json.Unmarshal(line, &r); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("microvm: relay answer %q: %w", line, err)
	}
	if !r.OK {
		_ = c.Close()
		if r.BadProgram {
			return nil, fmt.Errorf("microvm: %w: %s", errdefs.ErrInvalidArgument, r.Error)
		}
		return nil, fmt.Errorf("microvm: %s", r.Error)
	}
	return c, nil
}
