package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
)

var arnTestAccount = Account{Partition: "aws", Region: "us-west-2", ID: "123456789012"}

func TestAccount_ARNs(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"runtime", arnTestAccount.RuntimeARN("my_agent-Ab12Cd34Ef"),
			"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef"},
		{"endpoint", arnTestAccount.EndpointARN("my_agent-Ab12Cd34Ef", "DEFAULT"),
			"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef/runtime-endpoint/DEFAULT"},
		{"workload identity", arnTestAccount.WorkloadIdentityARN("my_agent-Ab12Cd34Ef"),
			"arn:aws:bedrock-agentcore:us-west-2:123456789012:workload-identity-directory/default/workload-identity/my_agent-Ab12Cd34Ef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestParseARN_Valid(t *testing.T) {
	cases := []struct {
		in   string
		want ARN
	}{
		{"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef",
			ARN{Partition: "aws", Region: "us-west-2", Account: "123456789012", RuntimeID: "my_agent-Ab12Cd34Ef"}},
		{"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef/runtime-endpoint/DEFAULT",
			ARN{Partition: "aws", Region: "us-west-2", Account: "123456789012", RuntimeID: "my_agent-Ab12Cd34Ef", Endpoint: "DEFAULT"}},
		{"arn:aws-us-gov:bedrock-agentcore:us-gov-west-1:000000000000:runtime/a-0123456789/runtime-endpoint/prod_1",
			ARN{Partition: "aws-us-gov", Region: "us-gov-west-1", Account: "000000000000", RuntimeID: "a-0123456789", Endpoint: "prod_1"}},
		{"arn:aws-cn:bedrock-agentcore:cn-north-1:123456789012:runtime/" + strings.Repeat("n", 100) + "-ABCDEFGHIJ",
			ARN{Partition: "aws-cn", Region: "cn-north-1", Account: "123456789012", RuntimeID: strings.Repeat("n", 100) + "-ABCDEFGHIJ"}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseARN(tc.in)
			if err != nil {
				t.Fatalf("ParseARN: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseARN (-want +got):\n%s", diff)
			}
			if s := got.String(); s != tc.in {
				t.Errorf("String() = %q, want %q", s, tc.in)
			}
		})
	}
}

func TestParseARN_Invalid(t *testing.T) {
	const ok = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef"
	cases := []struct{ name, in, why string }{
		{"empty", "", "expected arn:partition"},
		{"too few parts", "arn:aws:bedrock-agentcore:us-west-2:123456789012", "expected arn:partition"},
		{"not arn", strings.Replace(ok, "arn:", "urn:", 1), "expected arn:partition"},
		{"empty partition", strings.Replace(ok, ":aws:", "::", 1), "bad partition"},
		{"upper partition", strings.Replace(ok, ":aws:", ":AWS:", 1), "bad partition"},
		{"other service", strings.Replace(ok, "bedrock-agentcore", "bedrock", 1), "service must be"},
		{"empty region", strings.Replace(ok, "us-west-2", "", 1), "bad region"},
		{"region with slash", strings.Replace(ok, "us-west-2", "us/west", 1), "bad region"},
		{"short account", strings.Replace(ok, "123456789012", "12345678901", 1), "account must be 12 digits"},
		{"letter account", strings.Replace(ok, "123456789012", "12345678901a", 1), "account must be 12 digits"},
		{"other resource", strings.Replace(ok, "runtime/", "agent/", 1), "resource must be runtime/"},
		{"id without suffix", strings.Replace(ok, "my_agent-Ab12Cd34Ef", "my_agent", 1), "bad runtime id"},
		{"id short suffix", strings.Replace(ok, "Ab12Cd34Ef", "Ab12Cd34E", 1), "bad runtime id"},
		{"trailing slash", ok + "/", "bad runtime-endpoint suffix"},
		{"bad endpoint keyword", ok + "/endpoint/DEFAULT", "bad runtime-endpoint suffix"},
		{"empty endpoint", ok + "/runtime-endpoint/", "bad runtime-endpoint suffix"},
		{"bad endpoint name", ok + "/runtime-endpoint/my-endpoint", "bad runtime-endpoint suffix"},
		{"nested endpoint", ok + "/runtime-endpoint/a/b", "bad runtime-endpoint suffix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseARN(tc.in)
			if err == nil {
				t.Fatalf("ParseARN(%q) = %+v, want error", tc.in, got)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %v does not wrap ErrInvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %q does not say %q", err, tc.why)
			}
			if got != (ARN{}) {
				t.Errorf("ParseARN returned %+v with its error, want zero", got)
			}
		})
	}
}

func TestParseVersion_Rules(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true}, {"10", 10, true}, {"99999", 99999, true},
		{"", 0, false}, {"0", 0, false}, {"01", 0, false}, {"100000", 0, false},
		{"-1", 0, false}, {"+1", 0, false}, {"1a", 0, false}, {" 1", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseVersion(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("ParseVersion(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %v does not wrap ErrInvalidArgument", err)
			}
			if tc.ok && FormatVersion(got) != tc.in {
				t.Errorf("FormatVersion(%d) = %q, want %q", got, FormatVersion(got), tc.in)
			}
		})
	}
}

// FuzzParseARN checks that ParseARN never panics, that whatever it accepts renders back
// to exactly the input, and that the rendering parses to the same value.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{
		"",
		"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef",
		"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_agent-Ab12Cd34Ef/runtime-endpoint/DEFAULT",
		"arn:aws-cn:bedrock-agentcore:cn-north-1:000000000000:runtime/a-0123456789/runtime-endpoint/x",
		"arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/a-0123456789/",
		"arn:aws:bedrock-agentcore::123456789012:runtime/a-0123456789",
		"arn:::::",
		"arn:aws:bedrock-agentcore:r:123456789012:runtime/a-0123456789/runtime-endpoint/a/b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseARN(s)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("ParseARN(%q) error %v does not wrap ErrInvalidArgument", s, err)
			}
			return
		}
		out := a.String()
		if out != s {
			t.Fatalf("ParseARN(%q).String() = %q, not the input", s, out)
		}
		b, err := ParseARN(out)
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", out, s, err)
		}
		if a != b {
			t.Fatalf("re-parse of %q = %+v, want %+v", out, b, a)
		}
		if !ValidRuntimeID(a.RuntimeID) || (a.Endpoint != "" && !ValidName(a.Endpoint)) {
			t.Fatalf("ParseARN(%q) accepted invalid parts %+v", s, a)
		}
	})
}
