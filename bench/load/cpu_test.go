package load

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    int64
		wantErr bool
	}{
		{name: "plain", want: 17 + 4,
			stat: "1234 (berth) S 1 1234 1234 0 -1 4194560 6174 0 0 0 17 4 0 0 20 0 12 0 4321 1300000000 7000 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0"},
		{name: "command with spaces and parentheses", want: 300 + 45,
			stat: "99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 300 45 0 0 20 0 1 0 1 1 1"},
		{name: "no command", stat: "99 a R 1", wantErr: true},
		{name: "too few fields", stat: "99 (x) R 1 2 3", wantErr: true},
		{name: "non-numeric utime", stat: "99 (x) R 1 99 99 0 -1 0 0 0 0 0 abc 45 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestCPUMeter_Self: burning CPU in this process shows in both the /proc reading and
// getrusage.
func TestCPUMeter_Self(t *testing.T) {
	m, err := startCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start, _ := selfCPU()
	x := 0
	for now, _ := selfCPU(); now-start < 50*time.Millisecond; now, _ = selfCPU() {
		for i := range 10000 {
			x += i
		}
	}
	_ = x
	if err := m.stop(); err != nil {
		t.Fatal(err)
	}
	if m.Self < 50*time.Millisecond {
		t.Errorf("own CPU = %v after burning 50ms", m.Self)
	}
	// /proc counts in 10 ms ticks: at least 30 ms of the 50 must show.
	if m.Proc < 30*time.Millisecond {
		t.Errorf("/proc CPU = %v after burning 50ms", m.Proc)
	}
	if m.Total <= 0 {
		t.Errorf("wall time = %v", m.Total)
	}
}
