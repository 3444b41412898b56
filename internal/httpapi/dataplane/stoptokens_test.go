package dataplane

import (
	"testing"
	"time"
)

func TestStopTokens_Replay(t *testing.T) {
	s := newStopTokens(time.Minute)
	now := time.Now()
	if s.replay("tok", "k", now) {
		t.Error("unknown token replayed")
	}
	s.remember("tok", "k", now)
	cases := []struct {
		token, key string
		at         time.Time
		want       bool
	}{
		{"tok", "k", now.Add(30 * time.Second), true},
		{"tok", "other", now, false},
		{"other", "k", now, false},
		{"", "k", now, false},
		{"tok", "k", now.Add(2 * time.Minute), false},
	}
	for _, tc := range cases {
		if got := s.replay(tc.token, tc.key, tc.at); got != tc.want {
			t.Errorf("replay(%q, %q, +%v) = %v, want %v", tc.token, tc.key, tc.at.Sub(now), got, tc.want)
		}
	}
	s.remember("new", "k", now.Add(2*time.Minute)) // prunes the expired entry
	if len(s.seen) != 1 {
		t.Errorf("%d entries after pruning, want 1", len(s.seen))
	}
}
