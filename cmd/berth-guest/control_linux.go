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
	ns     *agentNetns
	ctl    *os.File
	relay  net.Listener

	sendMu sync.Mutex

	mu     sync.Mutex
	start  *guestapi.Start // set once the agent was started
	exited atomic.Bool     // the agent has exited
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
				if err := g.send(guestapi.Message{Type: guestapi.TypeStartFailed, Error: err.Error()}); err != nil {
					return fmt.Errorf("answer start: %w", err)
				}
				continue
			}
			if err := g.send(guestapi.Message{Type: guestapi.TypeStarted, PID: p.proc.Pid}); err != nil {
				return fmt.Errorf("answer start: %w", err)
			}
			go g.relayAgent(p) // after Started, so the host sees Exit after it
		default:
			g.log.Warn("unknown control message", "type", m.Type)
		}
	}
	return fmt.Errorf("control channel closed: %w", sc.Err())
}
