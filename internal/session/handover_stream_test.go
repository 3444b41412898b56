package session

import (
	"fmt"
	"slices"
	"testing"

	"berth.dev/berth/internal/sessionlog"
)

func TestHandover_KeepsStreamsApartInTheSessionLog(t *testing.T) {
	logs, err := sessionlog.New(sessionlog.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var h handover
	fmt.Fprint(h.stream(sessionlog.StreamStdout), "listening\n")
	fmt.Fprint(h.stream(sessionlog.StreamStderr), "warming up\n")
	fmt.Fprint(&h, "either\n")
	if got := h.tail(); got != "listening\nwarming up\neither" {
		t.Fatalf("tail %q", got)
	}
	w, err := logs.Open("rec", sessionlog.Source{})
	if err != nil {
		t.Fatal(err)
	}
	w.Notice("this session runs a pre-started sandbox")
	if err := h.handOver(w); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(h.stream(sessionlog.StreamStderr), "after\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = logs.Read(t.Context(), "rec", sessionlog.Query{Tail: -1}, nil, func(recs []sessionlog.Record) error {
		for _, r := range recs {
			got = append(got, r.Stream+": "+r.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"berth: this session runs a pre-started sandbox", "stdout: listening", "stderr: warming up", "output: either", "stderr: after"}
	if !slices.Equal(got, want) {
		t.Fatalf("log %q, want %q", got, want)
	}
}
