//go:build linux && !amd64

package seccomp

const (
	auditArch = 0
	x32Bit    = 0
)

var deniedSyscalls []int
