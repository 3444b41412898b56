package cli

import (
	"strings"
	"testing"
)

func TestDecodeYAML_OneLineWithPosition(t *testing.T) {
	var p project
	for _, tc := range []struct{ in, want string }{
		{"version: 1\nname: a\nbogus: 1\n", `.berth.yaml:3:1: unknown field "bogus"`},
		{"version: 1\nlifecycle:\n  maxLifetime: soon\n", ".berth.yaml:3:16: "},
	} {
		err := decodeYAML(".berth.yaml", []byte(tc.in), &p)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("decode %q: %v, want one line starting %q", tc.in, err, tc.want)
		}
	}
}

func TestProject_Validate(t *testing.T) {
	ok := project{Version: 1, Name: "a", DeploymentType: deployZip, Runtime: "NODE_22", Network: &network{Mode: "PUBLIC", EgressAllowlist: []string{"x.example"}}}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid project: %v", err)
	}
	bad := project{Version: 2, Name: "1a", DeploymentType: deployImage, Image: "r", ImageArchive: "a", Runtime: "PYTHON_3_12",
		Lifecycle: &lifecycle{MaxLifetime: 30}, Authorizer: &authorizer{}, Network: &network{Mode: "VPC", EgressAllowlist: []string{"x"}}}
	err := bad.validate()
	if err == nil {
		t.Fatal("invalid project accepted")
	}
	for _, want := range []string{"version must be 1", `name "1a"`, "image or imageArchive, not both", "runtime is for deploymentType zip",
		"maxLifetime", "discoveryUrl is missing", "egressAllowlist needs network.mode PUBLIC"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
