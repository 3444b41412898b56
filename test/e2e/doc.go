// Package e2e holds Berth's black-box tests: a real server (in-process, or the real binary
// for crash tests) on loopback, driven by the real AWS SDK clients, go-containerregistry and
// raw signed HTTP. Nothing here reaches into the server's internals.
package e2e
