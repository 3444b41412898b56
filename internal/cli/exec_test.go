package cli

import "testing"

func TestShellCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ls -l | wc -l"}, "ls -l | wc -l"},
		{[]string{"echo", "a b", "it's", "$HOME", "x=1", "/tmp/f.txt"}, `echo 'a b' 'it'\''s' '$HOME' x=1 /tmp/f.txt`},
		{[]string{"printf", ""}, `printf ''`},
	} {
		if got := shellCommand(tc.args); got != tc.want {
			t.Errorf("shellCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	for in, want := range map[int32]int{3: 3, 255: 255, 256: 1, -1: 1} {
		if got := exitCode(in); got != want {
			t.Errorf("exitCode(%d) = %d, want %d", in, got, want)
		}
	}
}
