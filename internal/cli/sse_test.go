package cli

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// TestCopySSE_StreamsEachEvent: every data: line reaches the output before the next event
// is even written, so a slow agent's events show up one by one.
func TestCopySSE_StreamsEachEvent(t *testing.T) {
	in, agent := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- copySSE(outW, in)
		_ = outW.Close()
	}()
	lines := bufio.NewReader(outR)
	events := []string{"event: chunk\ndata: one\n\n", ": comment\ndata:two\r\n\r\n", "id: 3\ndata: {\"n\": 3}\n\n"}
	want := []string{"one", "two", `{"n": 3}`}
	for i, ev := range events {
		// The pipe blocks this write until copySSE has read it, and the next read below
		// returns only once copySSE wrote the payload: the line came out before event i+1.
		if _, err := io.WriteString(agent, ev); err != nil {
			t.Fatal(err)
		}
		got, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got = strings.TrimSuffix(got, "\n"); got != want[i] {
			t.Errorf("event %d printed %q, want %q", i, got, want[i])
		}
	}
	_ = agent.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(lines); len(rest) != 0 {
		t.Errorf("extra output %q", rest)
	}
}

func TestParseHeaders(t *testing.T) {
	got, err := parseHeaders([]string{"Tenant: acme", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-A:b", "Authorization:Bearer x"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{customHeaderPrefix + "Tenant", "acme"}, {customHeaderPrefix + "A", "b"}, {"Authorization", "Bearer x"}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("header %d = %q, want %q", i, got[i], want[i])
		}
	}
	if _, err := parseHeaders([]string{"no-colon"}); err == nil {
		t.Error("a header without a colon was accepted")
	}
}
