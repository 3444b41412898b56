//go:build linux

package process

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	// Field values: pid, (comm), state, ppid, pgrp, session, tty, tpgid, flags, minflt,
	// cminflt, majflt, cmajflt, utime, stime, cutime, cstime, ..., starttime (22), ...,
	// exit_code (52).
	rest := " 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 768\n"
	for _, tc := range []struct {
		name, line string
		want       procStat
		wantErr    bool
	}{
		{
			name: "plain",
			line: "123 (agent) Z" + rest,
			want: procStat{pid: 123, ppid: 4, pgrp: 5, session: 6, state: 'Z', utime: 14, stime: 15, cutime: 16, cstime: 17, startTime: 22, exitCode: 768},
		},
		{
			name: "name with spaces and parentheses",
			line: "7 (a) b (c)) S" + rest,
			want: procStat{pid: 7, ppid: 4, pgrp: 5, session: 6, state: 'S', utime: 14, stime: 15, cutime: 16, cstime: 17, startTime: 22, exitCode: 768},
		},
		{name: "truncated", line: "7 (a) S 1 2 3", wantErr: true},
		{name: "no name", line: "7 a S" + rest, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.line))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(procStat{})); !tc.wantErr && diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadStat_Self(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.pid != os.Getpid() || st.ppid != os.Getppid() || st.dead() || st.startTime == 0 {
		t.Fatalf("readStat(self) = %+v", st)
	}
	rss, hwm, err := readMemory(os.Getpid())
	if err != nil || rss <= 0 || hwm < rss {
		t.Fatalf("readMemory(self) = %d, %d, %v", rss, hwm, err)
	}
	if hz := clockTicks(); hz != 100 {
		t.Logf("USER_HZ = %d", hz) // 100 on every common architecture; not an error
	}
}
