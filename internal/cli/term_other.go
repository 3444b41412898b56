//go:build !linux

package cli

import "io"

// isTerminal reports false off Linux: progress lines are a Linux nicety.
func isTerminal(io.Writer) bool { return false }
