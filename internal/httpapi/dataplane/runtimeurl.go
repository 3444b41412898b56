package dataplane

import (
	"net/url"
	"strings"

	"berth.dev/berth/internal/catalog"
)

// runtimeURL is the public invocation URL of a runtime endpoint, the value of
// AGENTCORE_RUNTIME_URL (AGENTCORE-WIRE.md §2.5, §4.6): base + /runtimes/{encoded runtime
// ARN}/invocations/, with ?qualifier=… for an endpoint other than DEFAULT. The ARN is
// encoded as AWS SDKs encode HTTP labels (§1.3). It is "" when base is empty.
func runtimeURL(base, runtimeARN, endpoint string) string {
	if base == "" {
		return ""
	}
	u := strings.TrimRight(base, "/") + "/runtimes/" + escapeLabel(runtimeARN) + "/invocations/"
	if endpoint != "" && endpoint != catalog.DefaultEndpoint {
		u += "?qualifier=" + url.QueryEscape(endpoint)
	}
	return u
}

// escapeLabel percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ with upper-case hex,
// including ":" and "/".
func escapeLabel(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
	}
	return b.String()
}
