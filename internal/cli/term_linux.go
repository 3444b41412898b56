package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f (an output or input stream) is a terminal: progress lines are
// drawn, and questions asked, only there.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS) //nolint:gosec // a file descriptor fits an int
	return err == nil
}
