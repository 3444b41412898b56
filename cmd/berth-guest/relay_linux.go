package main

import (
	"bufio"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// listenRelay listens for relay connections on the network card, in the guest's own
// network namespace: an agent in its loopback-only namespace cannot reach it, and one
// with public egress, which runs in the guest's namespace, does not have the token.
func (g *guest) listenRelay() error {
	ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", guestapi.RelayPort))
	if err != nil {
		return fmt.Errorf("relay listener: %w", err)
	}
	g.relay = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				g.log.Error("relay accept", "err", err)
				return
			}
			go g.handleRelay(c)
		}
	}()
	return nil
}

func (g *guest) handleRelay(c net.Conn) {
	defer func() { _ = c.Close() }()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	var h guestapi.Hello
	if err := json.Unmarshal(line, &h); err != nil {
		return
	}
	g.mu.Lock()
	s, token, ns := g.start, g.token, g.ns
	g.mu.Unlock()
	if s == nil || token == "" || subtle.ConstantTimeCompare([]byte(h.Token), []byte(token)) != 1 {
		reply(c, errors.New("not authorized"))
		return
	}
	in := io.MultiReader(br, c)
	switch h.Op {
	case guestapi.OpDial:
		g.relayDial(c, in, ns, h.Port)
	case guestapi.OpExec:
		if h.Exec == nil {
			reply(c, errors.New("exec without a command"))
			return
		}
		g.relayExec(c, in, s, h.Exec)
	default:
		reply(c, fmt.Errorf("unknown op %q", h.Op))
	}
}

func reply(w io.Writer, err error) {
	r := guestapi.Reply{OK: err == nil}
	if err != nil {
		r.Error, r.BadProgram = err.Error(), isProgramError(err)
	}
	b, _ := json.Marshal(r)
	_, _ = w.Write(append(b, '\n'))
}

// relayDial connects c to the agent's port and copies both ways until both ends are done.
func (g *guest) relayDial(c net.Conn, in io.Reader, ns *agentNetns, port int) {
	if port <= 0 || port > 65535 {
		reply(c, fmt.Errorf("bad port %d", port))
		return
	}
	a, err := g.dialAgent(ns, port)
	if err != nil {
		reply(c, err)
		return
	}
	defer func() { _ = a.Close() }()
	reply(c, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(a, in)
		_ = a.(*net.TCPConn).CloseWrite()
	})
	_, _ = io.Copy(c, a)
	_ = c.(*net.TCPConn).CloseWrite()
	wg.Wait()
}

// Refused dials are retried in the guest for a while: while an agent starts, the host
// probes its port, and answering every probe through the user-mode network costs far
// more guest CPU (which the starting agent needs, under TCG above all) than a loopback
// connect.
const (
	refusedWait  = 500 * time.Millisecond
	refusedRetry = 10 * time.Millisecond
)

// dialAgent connects to the agent's port, retrying refused connections for up to
// refusedWait while the agent runs.
func (g *guest) dialAgent(ns *agentNetns, port int) (net.Conn, error) {
	deadline := time.Now().Add(refusedWait)
	for {
		a, err := ns.dial(port)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || g.exited.Load() || time.Now().After(deadline) {
			return a, err
		}
		time.Sleep(refusedRetry)
	}
}

// relayExec runs a command and streams it over c as frames. A broken connection (the
// host's context ended) kills the command's process group.
func (g *guest) relayExec(c net.Conn, in io.Reader, s *guestapi.Start, e *guestapi.Exec) {
	dir := e.WorkDir
	if dir == "" {
		dir = s.WorkDir
	}
	env := append(slices.Clone(s.Env), e.Env...)
	p, err := g.spawn(s, e.Argv, env, dir, false)
	if err != nil {
		reply(c, err)
		return
	}
	reply(c, nil)
	var wmu sync.Mutex
	write := func(kind byte, b []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = guestapi.WriteFrame(c, kind, b)
	}
	exited := make(chan struct{})
	go func() { // stdin, and cancellation
		defer func() { _ = p.stdin.Close() }()
		for {
			kind, b, err := guestapi.ReadFrame(in)
			if err != nil {
				select {
				case <-exited:
				default:
					_ = syscall.Kill(-p.proc.Pid, syscall.SIGKILL)
				}
				return
			}
			switch kind {
			case guestapi.FrameStdin:
				_, _ = p.stdin.Write(b)
			case guestapi.FrameStdinEOF:
				_ = p.stdin.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	for kind, r := range map[byte]*os.File{guestapi.FrameStdout: p.stdout, guestapi.FrameStderr: p.stderr} {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					write(kind, buf[:n])
				}
				if err != nil {
					return
				}
			}
		})
	}
	ws := <-p.status
	close(exited)
	waitOutput(&wg, p.stdout, p.stderr)
	code, _ := exitCode(ws)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
	write(guestapi.FrameExit, b[:])
}
