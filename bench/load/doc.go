// Package load holds the HTTP load scenarios of Berth's benchmark harness: warm invoke
// overhead and throughput, SSE first-event latency and event rate, and large-payload
// throughput with the server's memory growth. Every figure is measured twice in the same
// run, through Berth and against the same agent binary started as a bare process on a
// loopback port, with the same client and transport settings, so each is read as Berth's
// addition to a baseline taken on the same machine at the same time.
//
// The closed-loop load generator (Generator) is usable on its own: N workers each send one
// request at a time until a request count or a deadline, recording every latency.
package load
