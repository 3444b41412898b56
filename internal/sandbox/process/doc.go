// Package process is the "process" sandbox driver: each sandbox is a plain child process of
// Berth, for development only. It isolates nothing (Capabilities.Isolation is "none"),
// except the network: every sandbox gets its own loopback-only network namespace, so every
// agent can listen on its contract port 0.0.0.0:8080 at the same time, no host port is
// exposed, and the sandbox cannot reach the host's loopback or the outside world.
//
// What a sandbox is, on the host:
//
//   - a working directory StateDir/<spec ID>, removed by Stop. A code tree (Spec.CodeDir)
//     is copied into it, and the agent runs there: the agent may write next to its code,
//     while the prepared tree stays read-only and shared.
//   - a session (setsid) led by the agent's main process. Every process the agent starts
//     belongs to it unless it calls setsid itself; Stop and Usage find the sandbox's
//     processes by that session id. Commands run through Exec get sessions of their own.
//   - a network namespace holding only "lo".
//
// Limits, stated honestly:
//
//   - No filesystem, pid, user or resource isolation: the agent runs as Berth's user and
//     sees and may change the whole host. Spec.Limits are not enforced.
//   - With Spec.RootFS (an OCI image) there is no chroot. Command[0] is looked up inside
//     RootFS (RootFS+"/agent" for "/agent", PATH searched under RootFS for a bare name),
//     but it runs against the host's filesystem: a dynamically linked program uses the
//     host's loader and libraries, absolute symlinks resolve on the host, and absolute
//     paths the agent opens are host paths. The working directory is RootFS+WorkDir when
//     that directory exists, which is the shared image tree itself: an agent that writes
//     there changes every sandbox of that image. Only self-contained (static) agents that
//     write to relative paths are good candidates.
//   - With Spec.CodeDir, Command[0] under Spec.WorkDir names the copy ("/var/task/agent"
//     runs StateDir/<id>/agent); other arguments are passed unchanged, so they should be
//     relative to the working directory.
//   - A process that escapes the session (setsid, or a double fork into a new session) is
//     not found by Stop. The parent-death signal kills the main process if Berth dies;
//     Reclaim then kills what is left of the session (see Driver.Reclaim).
//   - Only NetworkNone egress: the namespace has no route out.
//
// The package works on Linux only; elsewhere it is empty and registers nothing.
package process
