//go:build !linux

package cli

// isTerminal reports false off Linux: progress lines and questions are a Linux nicety.
func isTerminal(any) bool { return false }
