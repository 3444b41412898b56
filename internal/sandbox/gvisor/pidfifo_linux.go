package gvisor

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pidFIFO is a named pipe passed to runsc as a pid file (--pid-file, --internal-pid-file).
// runsc writes the pid with one write(2) once the process exists, which wakes the reader:
// no polling. The FIFO is opened read-write, so a reader never sees end-of-file before
// runsc writes, and it never blocks runsc's open.
type pidFIFO struct {
	path string
	f    *os.File
	pid  chan int // receives the pid once, or is closed if none came
}

// newPIDFIFO creates the FIFO at path and starts reading it.
func newPIDFIFO(path string) (*pidFIFO, error) {
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, fmt.Errorf("create pid file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("open pid file %s: %w", path, err)
	}
	p := &pidFIFO{path: path, f: f, pid: make(chan int, 1)}
	go p.read()
	return p, nil
}

func (p *pidFIFO) read() {
	defer close(p.pid)
	buf := make([]byte, 32)
	n, err := p.f.Read(buf) // returns with an error once close is called
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
		p.pid <- pid
	}
}

// close stops the reader and removes the FIFO. The pid channel is then closed (after
// delivering a pid that was read before).
func (p *pidFIFO) close() {
	_ = p.f.Close()
	_ = os.Remove(p.path)
}
