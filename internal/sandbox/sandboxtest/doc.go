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
// The suite works on Linux only; elsewhere it is empty.
package sandboxtest
