// Package session is Berth's session manager: it maps (runtime, endpoint, session id) to one
// live sandbox, starts sandboxes on first use, and ends them.
//
// A session is pinned to the version its endpoint pointed at when it started. Its states are
// starting → active ⇄ idle → terminating → terminated (store.Session*), and every session has
// a durable store.SessionRecord that keeps its start, end, reason, version and usage.
//
// Concurrency model. The Manager keeps a map of live sessions under one mutex. Each session
// is driven by exactly one goroutine owned by the Manager (counted in its WaitGroup): it
// resolves the target, creates the record, starts the sandbox, waits for the agent's first
// healthy GET /ping, and then runs the lifecycle loop (ping, idle timeout, max lifetime,
// agent exit) until it ends the session. That goroutine is the only writer of the session's
// record after creation, so record updates never race. Requests (Acquire, Lease.Release)
// only change in-memory counters under the session's mutex and poke the goroutine; Stop,
// StopRuntime and Close ask it to end the session and wait until it has.
//
// Health and idleness follow AGENTCORE-WIRE.md §4.3 and §4.10: any 200 from GET /ping is
// healthy; "HealthyBusy" counts as activity, so it keeps a session past its idle timeout up
// to its max lifetime; time_of_last_update is ignored. A session ends when it has had no
// request in flight, no busy ping and no activity for the version's
// idleRuntimeSessionTimeout, when it reaches maxLifetime (even with requests in flight),
// when the agent exits, or when it fails UnhealthyAfter pings in a row.
//
// Concurrent first calls for one key start one sandbox: the first Acquire inserts the
// session into the map and starts its goroutine; later ones find it and wait for start-up.
// The start runs with the first caller's context values but not its cancellation, so a
// caller that gives up does not fail the others.
//
// Warm pools (pool.go; Options.PoolSize, 0 disables them): each endpoint keeps a few
// started, healthy, never-used sandboxes of the version its sessions start on. A new
// session with the same target takes one after a single GET /ping, instead of starting a
// sandbox and polling it, so a pool hit costs about a warm call plus one durable record
// write; the pool refills in the background. The first session of a version (or Warm)
// creates its pool; a session or Warm on another version or Spec replaces it; a pool unused
// for PoolIdle is emptied, as are a deleted runtime's (StopRuntime) and an endpoint's on
// Retire. Pooled sandboxes are bounded by PoolMemoryBytes (counting memory limits) and
// never keep a session from starting under MaxSessions. Their output before the hand-over
// is buffered and written to the taking session's log. Each is recorded in the store
// (store.PooledSandbox) until it is handed over or stopped.
//
// On Start, sessions left live by a previous process are reconciled: their sandboxes are
// reclaimed (killed and wiped) through sandbox.Reclaimer when the driver has it, and their
// records are closed with reason server_restart; pooled sandboxes it left are reclaimed
// and their records deleted.
package session
