//go:build !linux

package main

import "net/http"

// probe is Linux only: the isolation suite runs sandboxes on Linux.
func probe(w http.ResponseWriter, _ request) {
	http.Error(w, "probes need Linux", http.StatusNotImplemented)
}

func printStatus() {}
