//go:build race

package agent_test

// raceEnabled shrinks the largest test bodies: the race detector makes byte-wise
// decoding about ten times slower.
const raceEnabled = true
