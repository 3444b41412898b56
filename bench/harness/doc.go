// Package harness runs a real Berth server for the benchmarks in bench/: it builds the berth
// binary and the Go test agent once (or takes a prebuilt berth from $BERTH_BENCH_BERTH),
// starts `berth server` on a loopback port, deploys the test agents (the Go agent as an OCI
// image pushed to the server's /v2/ registry, the Python agent and a "heavy" Python agent
// as code zips uploaded through the S3 API), invokes them with a SigV4-signed raw HTTP
// client and times the first response byte, follows the server's log (Watch: which session
// started on a pooled sandbox, when a pool holds a ready one), reads the server's memory
// from /proc, describes the machine, writes initramfs archives for the plain-QEMU baseline,
// and writes reports as JSON and Markdown.
//
// Scenario code (bench/ and bench/load) builds on Env. Berth's own figures are taken
// through the wire, as a client sees them: the harness never reaches into the server
// process (only into /proc for its memory, and its log for what the server says it did).
// The log lines it reads ("session started" with pool_hit and startup, "pooled sandbox
// ready") are internal/session's; a change of their wording breaks the warm-pool scenario
// loudly (it waits for them with a time limit), not silently.
package harness
