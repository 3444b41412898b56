// Package sandboxtest is the conformance suite every sandbox driver passes: Run starts the
// test agent (test/agent) in real sandboxes of the driver under test and checks the
// contract of package sandbox — dialling the agent's port, one network per sandbox, the
// environment, exit reporting, Stop (process tree killed, state wiped, idempotent), Usage,
// Reclaim, Exec, and that nothing leaks (goroutines; processes, where pids are host pids).
//
// A driver's test calls it once per configuration:
//
//	func TestDriver_Conformance(t *testing.T) {
//		d := newDriver(t, stateDir)
//		sandboxtest.Run(t, d, sandboxtest.Options{Spec: ..., NewDriver: ..., StateDir: stateDir})
//	}
//
// RunIsolation is the second suite, for drivers that isolate (Capabilities().Isolation is
// not "none"; for others it skips and says so): real attempts, made by the test agent's
// "probe" operations from inside sandboxes, to read or write another session's files, see
// or signal its processes, reach its ports, the host's services, the cloud metadata
// address and networks the egress policy forbids, change the base image, gain privileges
// (setuid, setuid binaries, mount, new namespaces), and exhaust memory, pids and disk — and
// checks that nothing of a session survives Stop. It needs root, and builds its own test
// hosts: network namespaces joined to the host by veth pairs (ip(8) from iproute2), each
// routed from the host at one address (nethosts_linux.go). A driver's test calls it next
// to Run:
//
//	func TestDriver_Isolation(t *testing.T) {
//		sandboxtest.RunIsolation(t, d, sandboxtest.Options{Spec: ..., StateDir: stateDir})
//	}
//
// The suites work on Linux only; elsewhere the package is empty.
package sandboxtest
