//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "vminit runs only as PID 1 of a Linux VM")
	os.Exit(2)
}
