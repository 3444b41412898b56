package load

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"testing/iotest"
)

func TestPayload_Read(t *testing.T) {
	sizes := []int64{0, 1, patternLen - 1, patternLen, patternLen + 1, 3*patternLen + 12345}
	for _, n := range sizes {
		whole, err := io.ReadAll(newPayload(n))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(whole)) != n {
			t.Fatalf("size %d: read %d bytes", n, len(whole))
		}
		// Small reads give the same bytes as large ones.
		bytewise, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(newPayload(n), 3000)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytewise, whole[:min(n, 3000)]) {
			t.Errorf("size %d: byte-by-byte reads differ", n)
		}
		// The pattern repeats with period patternLen, from offset 0.
		if n > patternLen && !bytes.Equal(whole[patternLen:min(n, 2*patternLen)], pattern[:min(n, 2*patternLen)-patternLen]) {
			t.Errorf("size %d: second period differs from the pattern", n)
		}
		sum, got, err := hashReader(newPayload(n))
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(whole)
		if got != n || sum != hex.EncodeToString(want[:]) {
			t.Errorf("size %d: hashReader = %s, %d", n, sum, got)
		}
	}
	if hashOf(patternLen+1) == hashOf(patternLen) {
		t.Error("different sizes hash alike")
	}
}

func TestEscapeLabel(t *testing.T) {
	arn := "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef"
	want := "arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fmy_agent-Ab12Cd34Ef"
	if got := escapeLabel(arn); got != want {
		t.Errorf("escapeLabel = %s, want %s", got, want)
	}
	if got := escapeLabel("a.b~c d"); got != "a.b~c%20d" {
		t.Errorf("escapeLabel = %s", got)
	}
}
