package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// guest is berth-guest's state after boot.
type guest struct {
	log    *slog.Logger
	reaper *reaper
	// isolated and public are the agent's two possible network namespaces (agentNetns);
	// Start picks one, ns, for the agent and Exec commands.
	isolated, public *agentNetns
	layer            *writableLayer
	ctl              *os.File
	relay            net.Listener

	sendMu sync.Mutex
	// held is read-locked by every send of the agent's Output and Exit, and write-locked
	// from Pause to Resume, which holds them back while the VM is snapshotted.
	held   sync.RWMutex
	paused bool // only the control loop reads and writes it

	mu       sync.Mutex
	start    *guestapi.Start // set once the agent was started
	ns       *agentNetns     // set with start (startAgent holds mu while it spawns in it)
	token    string          // authenticates relay connections; Resume replaces it
	kmsgMark int64           // the kernel log's last record when the agent started
	exited   atomic.Bool     // the agent has exited
}

// openControl opens the control channel's virtio-serial port.
func openControl() (*os.File, error) {
	names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil || strings.TrimSpace(string(b)) != guestapi.ControlPort {
			continue
		}
		dev := "/dev/" + filepath.Base(filepath.Dir(n))
		f, err := os.OpenFile(dev, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("open control channel: %w", err)
		}
		return f, nil
	}
	return nil, errors.New("no control channel (virtio-serial port " + guestapi.ControlPort + ")")
}

// send writes one message to the host.
func (g *guest) send(m guestapi.Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	g.sendMu.Lock()
	defer g.sendMu.Unlock()
	_, err = g.ctl.Write(append(b, '\n'))
	return err
}

// sendHeld sends one of the agent's messages, waiting while the guest is paused.
func (g *guest) sendHeld(m guestapi.Message) error {
	g.held.RLock()
	defer g.held.RUnlock()
	return g.send(m)
}

// pause holds back the agent's messages and tells the host that nothing more comes: what
// it sent before Paused is all the snapshot's clones must not send again.
func (g *guest) pause() error {
	if !g.paused {
		g.held.Lock()
		g.paused = true
	}
	return g.send(guestapi.Message{Type: guestapi.TypePaused})
}

// resume makes a clone of a paused snapshot its own session: fresh randomness, the
// time, a new relay token; then the held-back messages flow again.
func (g *guest) resume(r *guestapi.Resume) error {
	if err := reseed(r.Entropy); err != nil {
		return err
	}
	if err := setClock(r.TimeUnixNano); err != nil {
		return err
	}
	if r.Token == "" {
		return errors.New("resume without a relay token")
	}
	g.mu.Lock()
	g.token = r.Token
	g.mu.Unlock()
	announce()
	return nil
}

// serve says ready and handles the host's messages.
func (g *guest) serve() error {
	if err := g.send(guestapi.Message{Type: guestapi.TypeReady}); err != nil {
		return fmt.Errorf("send ready: %w", err)
	}
	sc := bufio.NewScanner(g.ctl)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var m guestapi.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			g.log.Warn("bad control message", "err", err)
			continue
		}
		switch m.Type {
		case guestapi.TypeStart:
			if m.Start == nil {
				continue
			}
			p, err := g.startAgent(m.Start)
			if err != nil {
				if err := g.send(guestapi.Message{Type: guestapi.TypeStartFailed, Error: err.Error(), BadProgram: isProgramError(err)}); err != nil {
					return fmt.Errorf("answer start: %w", err)
				}
				continue
			}
			if err := g.send(guestapi.Message{Type: guestapi.TypeStarted, PID: p.proc.Pid}); err != nil {
				return fmt.Errorf("answer start: %w", err)
			}
			go g.relayAgent(p) // after Started, so the host sees Exit after it
		case guestapi.TypeForward:
			reply := guestapi.Message{Type: guestapi.TypeForwarded}
			if err := g.forwardLater(m.Forward); err != nil {
				reply.Error = err.Error()
			}
			if err := g.send(reply); err != nil {
				return fmt.Errorf("answer forward: %w", err)
			}
		case guestapi.TypeClock:
			if err := setClock(m.TimeUnixNano); err != nil {
				g.log.Warn("set clock", "err", err)
			}
		case guestapi.TypePause:
			if err := g.pause(); err != nil {
				return fmt.Errorf("answer pause: %w", err)
			}
		case guestapi.TypeResume:
			if m.Resume == nil {
				continue
			}
			reply := guestapi.Message{Type: guestapi.TypeResumed}
			if err := g.resume(m.Resume); err != nil {
				reply.Error = err.Error()
			}
			if err := g.send(reply); err != nil {
				return fmt.Errorf("answer resume: %w", err)
			}
			if reply.Error == "" && g.paused {
				g.paused = false
				g.held.Unlock()
			}
		default:
			g.log.Warn("unknown control message", "type", m.Type)
		}
	}
	return fmt.Errorf("control channel closed: %w", sc.Err())
}
