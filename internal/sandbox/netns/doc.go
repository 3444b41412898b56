// Package netns holds loopback-only Linux network namespaces as Go values.
//
// A sandbox gets its own namespace so that its agent can listen on its contract port
// (0.0.0.0:8080) next to every other sandbox's agent, and so that no host port is exposed.
// Berth reaches the agent by creating sockets inside the namespace (setns on a locked OS
// thread, as measured in ISOLATION.md §2a): a socket keeps the namespace it was created
// in, so the returned net.Conn works from any goroutine.
//
// Every method that switches namespaces does so on a fresh goroutine locked to its OS
// thread, and switches back before unlocking. If switching back fails, the goroutine exits
// still locked, so the Go runtime destroys the thread instead of reusing it in the wrong
// namespace. Callers' goroutines are never moved.
//
// The package works on Linux only; elsewhere it is empty.
package netns
