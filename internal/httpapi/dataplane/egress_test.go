package dataplane

import (
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/sandbox"
)

func TestAPI_Egress_Policy(t *testing.T) {
	all := []sandbox.NetworkMode{sandbox.NetworkPublic, sandbox.NetworkAllowlist}
	none := sandbox.NetworkPolicy{Mode: sandbox.NetworkNone}
	for _, tc := range []struct {
		name   string
		net    *catalog.NetworkConfiguration
		driver []sandbox.NetworkMode
		want   sandbox.NetworkPolicy
	}{
		{"no configuration", nil, all, none},
		{"VPC", &catalog.NetworkConfiguration{NetworkMode: "VPC"}, all, none},
		{"public", &catalog.NetworkConfiguration{NetworkMode: "PUBLIC"}, all,
			sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}},
		{"allowlist", &catalog.NetworkConfiguration{NetworkMode: "PUBLIC", EgressAllowlist: []string{"api.example.com", "*.example.org"}}, all,
			sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{"api.example.com", "*.example.org"}}},
		{"public, driver without egress", &catalog.NetworkConfiguration{NetworkMode: "PUBLIC"}, nil, none},
		// A driver that offers PUBLIC but not ALLOWLIST must not widen an allowlist to the internet.
		{"allowlist, driver with PUBLIC only", &catalog.NetworkConfiguration{NetworkMode: "PUBLIC", EgressAllowlist: []string{"api.example.com"}},
			[]sandbox.NetworkMode{sandbox.NetworkPublic}, none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &API{log: slog.New(slog.NewTextHandler(t.Output(), nil)), opts: Options{Egress: tc.driver}}
			v := catalog.Version{Config: catalog.RuntimeConfig{NetworkConfiguration: tc.net}}
			if diff := cmp.Diff(tc.want, a.egress(catalog.Runtime{ID: "rt"}, v)); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}
