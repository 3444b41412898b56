//go:build !unix

package cli

import (
	"errors"
	"os/exec"
	"syscall"
)

var errNoProcessGroups = errors.New("process groups are not supported on this system")

// detach does nothing off Unix: the local server stays attached.
func detach(*exec.Cmd) {}

// ownGroup does nothing off Unix.
func ownGroup(*exec.Cmd) {}

// signalGroup is not supported off Unix.
func signalGroup(int, syscall.Signal) error { return errNoProcessGroups }

// signalProcess is not supported off Unix.
func signalProcess(int, syscall.Signal) error { return errNoProcessGroups }

// alive cannot tell off Unix and says no.
func alive(int) bool { return false }
