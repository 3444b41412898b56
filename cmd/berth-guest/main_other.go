//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "berth-guest runs only as PID 1 of a Linux microVM")
	os.Exit(2)
}
