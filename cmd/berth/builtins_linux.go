package main

// The sandbox drivers compiled into berth on Linux. This is the only list.
import (
	_ "berth.dev/berth/internal/sandbox/gvisor"
	_ "berth.dev/berth/internal/sandbox/linuxns"
	_ "berth.dev/berth/internal/sandbox/microvm"
	_ "berth.dev/berth/internal/sandbox/process"
)
