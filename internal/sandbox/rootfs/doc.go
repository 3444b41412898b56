// Package rootfs builds the base root filesystem that code-zip agents run on inside an
// isolating sandbox, and says which parts of the host it borrows.
//
// A code zip (Python or Node.js) needs an interpreter but brings no operating system.
// Instead of downloading a distribution, Berth gives such sandboxes a small skeleton
// (EnsureBase: /etc with a passwd and group that know the sandbox user, hosts, resolv.conf
// and nsswitch.conf; empty mount points; the usr-merged /bin, /lib, /lib64 and /sbin
// symlinks) with the host's /usr bound over it read-only (HostBinds), so the interpreters
// the host has installed — Debian's python3 and nodejs — run unchanged and their paths are
// the same inside and out.
//
// What a sandbox therefore sees of the host: the contents of /usr (installed programs and
// libraries, which are public packages), /etc/ssl (CA certificates) and /etc/alternatives
// (symlinks), all read-only and mounted nosuid. Nothing else: no /home, /root, /var, host
// /etc files, /proc or /dev of the host.
//
// OCI images bring their own root filesystem and do not use the base.
package rootfs
