package dataplane

import "testing"

func TestRuntimeURL_Build(t *testing.T) {
	const arn = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/my_agent-Ab12Cd34Ef"
	const enc = "arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A000000000000%3Aruntime%2Fmy_agent-Ab12Cd34Ef"
	cases := []struct {
		name     string
		base     string
		endpoint string
		want     string
	}{
		{"default endpoint", "http://127.0.0.1:8080", "DEFAULT", "http://127.0.0.1:8080/runtimes/" + enc + "/invocations/"},
		{"empty endpoint", "http://h:1", "", "http://h:1/runtimes/" + enc + "/invocations/"},
		{"named endpoint", "https://berth.example", "PROD", "https://berth.example/runtimes/" + enc + "/invocations/?qualifier=PROD"},
		{"base with trailing slash and path", "https://example.com/berth/", "DEFAULT", "https://example.com/berth/runtimes/" + enc + "/invocations/"},
		{"no base", "", "DEFAULT", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := runtimeURL(tc.base, arn, tc.endpoint); got != tc.want {
				t.Errorf("runtimeURL(%q, arn, %q) = %q, want %q", tc.base, tc.endpoint, got, tc.want)
			}
		})
	}
}

func TestEscapeLabel_Encode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"AZaz09-._~", "AZaz09-._~"},
		{"a:b/c", "a%3Ab%2Fc"},
		{"sp ace+%", "sp%20ace%2B%25"},
		{"é", "%C3%A9"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := escapeLabel(tc.in); got != tc.want {
				t.Errorf("escapeLabel(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
