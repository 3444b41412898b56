package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddEgressAllowlist(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]any
	}{
		{
			"network kept", `{"agentRuntimeName":"a","networkConfiguration":{"networkMode":"PUBLIC"}}`,
			map[string]any{"agentRuntimeName": "a", "networkConfiguration": map[string]any{"networkMode": "PUBLIC", "egressAllowlist": []any{"api.example.com", "*.example.org"}}},
		},
		{
			"no network", `{"agentRuntimeName":"a"}`,
			map[string]any{"agentRuntimeName": "a", "networkConfiguration": map[string]any{"egressAllowlist": []any{"api.example.com", "*.example.org"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := addEgressAllowlist(strings.NewReader(tc.in), []string{"api.example.com", "*.example.org"})
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
	if _, err := addEgressAllowlist(strings.NewReader("not json"), nil); err == nil {
		t.Error("a body that is not JSON was accepted")
	}
}
