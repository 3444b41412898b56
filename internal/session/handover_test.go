package session

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestHandover_BuffersThenForwards(t *testing.T) {
	var h handover
	if _, err := fmt.Fprintf(&h, "line one\nline two\n"); err != nil {
		t.Fatal(err)
	}
	if got := h.tail(); got != "line one\nline two" {
		t.Fatalf("tail %q", got)
	}
	var log bytes.Buffer
	log.WriteString("berth: notice\n")
	if err := h.handOver(&log); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(&h, "after\n"); err != nil {
		t.Fatal(err)
	}
	if got, want := log.String(), "berth: notice\nline one\nline two\nafter\n"; got != want {
		t.Fatalf("log %q, want %q", got, want)
	}
}

func TestHandover_BoundsBufferAndCountsDropped(t *testing.T) {
	var h handover
	chunk := strings.Repeat("x", 1000) + "\n"
	total := 0
	for total < handoverBuffer+5000 {
		n, err := h.Write([]byte(chunk))
		if err != nil || n != len(chunk) {
			t.Fatalf("write: %d, %v", n, err)
		}
		total += n
	}
	var log bytes.Buffer
	if err := h.handOver(&log); err != nil {
		t.Fatal(err)
	}
	dropped := total - handoverBuffer
	want := fmt.Sprintf("berth: %d more bytes of output from before this session were dropped\n", dropped)
	if !strings.HasSuffix(log.String(), want) || log.Len() != handoverBuffer+len(want) {
		t.Fatalf("log of %d bytes ending %q, want %d buffered bytes then %q", log.Len(), log.String()[log.Len()-80:], handoverBuffer, want)
	}
}

func TestHandover_NilDestinationDiscards(t *testing.T) {
	var h handover
	_, _ = h.Write([]byte("before\n"))
	if err := h.handOver(nil); err != nil {
		t.Fatal(err)
	}
	if n, err := h.Write([]byte("after\n")); n != 6 || err != nil {
		t.Fatalf("write after a nil hand-over: %d, %v", n, err)
	}
}
