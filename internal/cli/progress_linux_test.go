package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the controller to read, the terminal to write to.
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	c, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	fd := int(c.Fd()) //nolint:gosec // a file descriptor fits an int
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tty.Close() })
	return c, tty
}

func TestProgress_DrawsOnATerminalOnly(t *testing.T) {
	controller, tty := openPTY(t)
	p := newProgress(tty)
	if !p.tty {
		t.Fatal("a pseudo-terminal is not seen as a terminal")
	}
	var got bytes.Buffer
	buf := make([]byte, 4096)
	// readUntil reads the terminal until its output holds want n times (10 s at most).
	readUntil := func(want string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(got.String(), want) < n {
			_ = controller.SetReadDeadline(deadline)
			k, err := controller.Read(buf)
			if err != nil {
				t.Fatalf("read terminal: %v (so far %q)", err, got.String())
			}
			got.Write(buf[:k])
		}
	}
	p.step("Packing %s", "agent")
	readUntil("\r\033[KPacking agent (", 2) // drawn, then redrawn by the ticker
	p.step("Uploading")
	p.clear()
	p.clear() // a second clear draws nothing
	if _, err := tty.WriteString("END\n"); err != nil {
		t.Fatal(err)
	}
	readUntil("END", 1)
	out := got.String()
	if !strings.Contains(out, "\r\033[KUploading (0s)") {
		t.Errorf("terminal got %q: want the next step drawn", out)
	}
	if !strings.HasSuffix(strings.TrimSuffix(out, "END\r\n"), "Uploading (0s)\r\033[K") {
		t.Errorf("terminal got %q: want the line erased at the end, once", out)
	}

	var pipe bytes.Buffer
	q := newProgress(&pipe)
	q.step("Packing")
	q.clear()
	if pipe.Len() != 0 {
		t.Errorf("a pipe got %q, want no progress at all", pipe.String())
	}
}
