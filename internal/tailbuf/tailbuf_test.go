package tailbuf_test

import (
	"bytes"
	"testing"

	"berth.dev/berth/internal/tailbuf"
)

func TestBuffer_KeepsTheTailAndPassesWritesOn(t *testing.T) {
	var all bytes.Buffer
	b := tailbuf.New(5, &all)
	for _, s := range []string{"abc", "defg", "hi\n"} {
		if n, err := b.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "fghi" {
		t.Errorf("String() = %q, want the last 5 bytes trimmed, %q", got, "fghi")
	}
	if all.String() != "abcdefghi\n" {
		t.Errorf("passed on %q", all.String())
	}
	if got := tailbuf.New(3, nil); got.String() != "" {
		t.Errorf("empty buffer says %q", got.String())
	}
}
