package dataplane

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/telemetry"
)

const sessionHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// address is the runtime and endpoint a data-plane request names.
type address struct {
	RuntimeID string
	Endpoint  string
}

// parseAddress reads the agentRuntimeArn label (a runtime ARN, an endpoint ARN, or a bare
// runtime id with the accountId query parameter) and the qualifier.
func (a *API) parseAddress(r *http.Request) (address, error) {
	label := r.PathValue("agentRuntimeArn")
	q := r.URL.Query()
	acct := a.svc.Account()
	var fields errdefs.Fields
	var addr address
	if strings.HasPrefix(label, "arn:") {
		arn, err := catalog.ParseARN(label)
		if err != nil {
			fields.Add("agentRuntimeArn", "Member must be an agent runtime ARN or id: %v", err)
		} else {
			if arn.Region != acct.Region || arn.Account != acct.ID {
				return address{}, fmt.Errorf("%w: agent runtime %s is not in this server's region and account (%s, %s)",
					errdefs.ErrNotFound, label, acct.Region, acct.ID)
			}
			addr = address{RuntimeID: arn.RuntimeID, Endpoint: arn.Endpoint}
		}
	} else {
		if !catalog.ValidRuntimeID(label) {
			fields.Add("agentRuntimeArn", "Member must be an agent runtime ARN or an agent runtime id")
		}
		switch account := q.Get("accountId"); {
		case account == "":
			fields.Add("accountId", "Member must not be null when agentRuntimeArn is a runtime id")
		case !accountPattern.MatchString(account):
			fields.Add("accountId", "Member must satisfy regular expression pattern: ^[0-9]{12}$")
		case account != acct.ID:
			return address{}, fmt.Errorf("%w: agent runtime %s does not exist in account %s", errdefs.ErrNotFound, label, account)
		}
		addr.RuntimeID = label
	}
	if qual := q.Get("qualifier"); qual != "" {
		if !catalog.ValidName(qual) {
			fields.Add("qualifier", "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$")
		}
		addr.Endpoint = qual
	}
	if addr.Endpoint == "" {
		addr.Endpoint = catalog.DefaultEndpoint
	}
	if err := fields.Err(); err != nil {
		return addr, err
	}
	telemetry.SetLogRuntime(r.Context(), addr.RuntimeID, addr.Endpoint)
	return addr, nil
}

// sessionID reads and validates the runtime session id header; when generate is set and the
// header is absent, a fresh one is made (raw-HTTP callers; SDKs always send one).
func sessionID(r *http.Request, generate bool) (string, error) {
	id, err := readSessionID(r, generate)
	if err == nil {
		telemetry.SetLogSession(r.Context(), id)
	}
	return id, err
}

func readSessionID(r *http.Request, generate bool) (string, error) {
	id := r.Header.Get(sessionHeader)
	if id == "" {
		if generate {
			return newSessionID(), nil
		}
		return "", errdefs.Invalid("runtimeSessionId", "Member must not be null")
	}
	if n := len([]rune(id)); n < 33 || n > 256 {
		return "", errdefs.Invalid("runtimeSessionId", "Member must have length between 33 and 256")
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f {
			return "", errdefs.Invalid("runtimeSessionId", "Member must not contain control characters")
		}
	}
	return id, nil
}

// liveVersion resolves the version the endpoint serves now, from the cache when nothing
// changed since it was last read, and checks that the caller may call it: SigV4 callers
// only runtimes without a JWT authorizer, bearer tokens only those with one (see
// auth.RuntimeDecides).
func (a *API) liveVersion(ctx context.Context, addr address) (catalog.Runtime, catalog.Endpoint, catalog.Version, error) {
	rt, ep, v, err := a.resolveLive(ctx, addr)
	p, _ := auth.PrincipalFrom(ctx)
	if aerr := a.opts.JWT.Decide(ctx, p, jwtAuthorizer(v.Config), err == nil); aerr != nil {
		return catalog.Runtime{}, catalog.Endpoint{}, catalog.Version{}, aerr
	}
	return rt, ep, v, err
}

// jwtAuthorizer returns the runtime configuration's JWT authorizer, or nil.
func jwtAuthorizer(cfg catalog.RuntimeConfig) *catalog.CustomJWTAuthorizer {
	if cfg.AuthorizerConfiguration == nil {
		return nil
	}
	return cfg.AuthorizerConfiguration.CustomJWTAuthorizer
}

// resolveLive is liveVersion without the caller check.
func (a *API) resolveLive(ctx context.Context, addr address) (catalog.Runtime, catalog.Endpoint, catalog.Version, error) {
	gen, now := a.svc.Generation(), time.Now()
	if r, ok := a.resolved.get(addr, gen, now); ok {
		return r.rt, r.ep, r.v, nil
	}
	rt, ep, v, err := a.readLiveVersion(ctx, addr)
	if err == nil {
		a.resolved.put(addr, resolution{rt: rt, ep: ep, v: v, gen: gen, at: now})
	}
	return rt, ep, v, err
}

// readLiveVersion reads the endpoint and its live version from the store.
func (a *API) readLiveVersion(ctx context.Context, addr address) (catalog.Runtime, catalog.Endpoint, catalog.Version, error) {
	ep, err := a.svc.GetEndpoint(ctx, addr.RuntimeID, addr.Endpoint)
	if err != nil {
		return catalog.Runtime{}, catalog.Endpoint{}, catalog.Version{}, err
	}
	e := ep.Endpoint
	if e.LiveVersion == 0 {
		why := string(e.Status)
		if e.FailureReason != "" {
			why += ": " + e.FailureReason
		}
		return catalog.Runtime{}, catalog.Endpoint{}, catalog.Version{}, fmt.Errorf(
			"%w: endpoint %s of agent runtime %s has no READY version yet (%s)", errdefs.ErrConflict, e.Name, e.RuntimeID, why)
	}
	res, err := a.svc.GetRuntime(ctx, addr.RuntimeID, e.LiveVersion)
	if err != nil {
		return catalog.Runtime{}, catalog.Endpoint{}, catalog.Version{}, err
	}
	if res.Version.Prepared == nil {
		return catalog.Runtime{}, catalog.Endpoint{}, catalog.Version{}, fmt.Errorf(
			"%w: version %d of agent runtime %s is not prepared", errdefs.ErrConflict, e.LiveVersion, e.RuntimeID)
	}
	return res.Runtime, e, res.Version, nil
}
