package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// Service is the ARN service namespace of every runtime resource.
const Service = "bedrock-agentcore"

// Account is where ARNs are minted: partition, region and account id.
type Account struct {
	Partition string // "aws"
	Region    string // "us-east-1"
	ID        string // twelve digits, "000000000000"
}

// RuntimeARN returns arn:{partition}:bedrock-agentcore:{region}:{account}:runtime/{id}.
func (a Account) RuntimeARN(runtimeID string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:runtime/%s", a.Partition, Service, a.Region, a.ID, runtimeID)
}

// EndpointARN returns the runtime ARN plus /runtime-endpoint/{name}.
func (a Account) EndpointARN(runtimeID, endpoint string) string {
	return a.RuntimeARN(runtimeID) + "/runtime-endpoint/" + endpoint
}

// WorkloadIdentityARN returns the ARN of the workload identity created for a runtime.
func (a Account) WorkloadIdentityARN(name string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:workload-identity-directory/default/workload-identity/%s",
		a.Partition, Service, a.Region, a.ID, name)
}

// ARN is a parsed bedrock-agentcore runtime ARN.
type ARN struct {
	Partition string
	Region    string
	Account   string
	RuntimeID string
	Endpoint  string // set for …/runtime-endpoint/{name}
}

// String renders the ARN back.
func (a ARN) String() string {
	s := fmt.Sprintf("arn:%s:%s:%s:%s:runtime/%s", a.Partition, Service, a.Region, a.Account, a.RuntimeID)
	if a.Endpoint != "" {
		s += "/runtime-endpoint/" + a.Endpoint
	}
	return s
}

// ParseARN parses a runtime or runtime-endpoint ARN. The error wraps
// errdefs.ErrInvalidArgument and says which part is wrong.
func ParseARN(s string) (ARN, error) {
	bad := func(why string) (ARN, error) {
		return ARN{}, fmt.Errorf("%w: invalid agent runtime ARN %q: %s", errdefs.ErrInvalidArgument, s, why)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return bad("expected arn:partition:service:region:account:resource")
	}
	a := ARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	if a.Partition == "" || !isLowerToken(a.Partition) {
		return bad("bad partition")
	}
	if parts[2] != Service {
		return bad("service must be " + Service)
	}
	if a.Region == "" || !isLowerToken(a.Region) {
		return bad("bad region")
	}
	if len(a.Account) != 12 || !isDigits(a.Account) {
		return bad("account must be 12 digits")
	}
	res := parts[5]
	rest, ok := strings.CutPrefix(res, "runtime/")
	if !ok {
		return bad("resource must be runtime/{id}")
	}
	id, ep, hasEP := strings.Cut(rest, "/")
	if !ValidRuntimeID(id) {
		return bad("bad runtime id")
	}
	a.RuntimeID = id
	if hasEP {
		name, ok := strings.CutPrefix(ep, "runtime-endpoint/")
		if !ok || !ValidName(name) {
			return bad("bad runtime-endpoint suffix")
		}
		a.Endpoint = name
	}
	return a, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// FormatVersion renders a version number the way the wire carries it: a decimal string.
func FormatVersion(n int) string { return strconv.Itoa(n) }

// ParseVersion parses a wire version string ("1"…"99999").
func ParseVersion(s string) (int, error) {
	if len(s) == 0 || len(s) > 5 || s[0] == '0' || !isDigits(s) {
		return 0, fmt.Errorf("%w: version %q must match ^([1-9][0-9]{0,4})$", errdefs.ErrInvalidArgument, s)
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}
