// Package cgroup puts a sandbox's processes into control groups that limit and account for
// their CPU, memory and process count, on cgroup v1 (one hierarchy per controller, as on
// this project's hosts) and on cgroup v2 (one unified hierarchy).
//
// A Manager finds the hierarchies once. Create makes one group per sandbox, named by a
// relative path such as "berth/<id>", in every controller it needs (v1: memory, cpu,
// cpuacct, pids; v2: one directory with those controllers enabled), and writes the limits.
// Stats reads the group's accounting: cumulative CPU time, memory now and at its peak, the
// number of OOM kills and of live tasks. Destroy kills whatever is still inside and removes
// the directories; Open gives a Group for a name created earlier (after a restart, or by
// another program such as runsc) so it can be read or destroyed.
//
// Limits, stated honestly: on v1 the memory limit also bounds swap when swap accounting is
// on (memory.memsw.*); CPU is a CFS quota (cores × 100 ms per 100 ms period), not a cpuset.
// On a hybrid host the v2 "unified" mount is ignored unless it has controllers.
//
// The package needs write access to the cgroup tree (root, or a delegated subtree). It works
// on Linux only.
package cgroup
