package cli

import "testing"

func TestRepoName(t *testing.T) {
	for in, want := range map[string]string{
		"hello_cli": "agents/hello-cli", "Web__App_": "agents/web-app", "oci-layout": "agents/oci-layout", "___": "agents/agent",
	} {
		if got := repoName(in); got != want {
			t.Errorf("repoName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameFrom(t *testing.T) {
	for in, want := range map[string]string{
		"my-agent": "my_agent", "2fast": "fast", "hello.world v2": "hello_world_v2", "---": "agent",
	} {
		got := nameFrom(in)
		if got != want || !validName(got) {
			t.Errorf("nameFrom(%q) = %q (valid %v), want %q", in, got, validName(got), want)
		}
	}
}
