// Package harness runs a real Berth server for the benchmarks in bench/: it builds the berth
// binary and the Go test agent once, starts `berth server` on a loopback port, deploys the
// test agents (the Go agent as an OCI image pushed to the server's /v2/ registry, the Python
// agent and a "heavy" Python agent as code zips uploaded through the S3 API), invokes them
// with a SigV4-signed raw HTTP client and times the first response byte, reads the server's
// memory from /proc, describes the machine, and writes reports as JSON and Markdown.
//
// Scenario code (bench/ and bench/load) builds on Env. Berth's own figures are taken
// through the wire, as a client sees them: the harness never reaches into the server
// process (only into /proc for its memory).
package harness
