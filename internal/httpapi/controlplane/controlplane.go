// Package controlplane serves AgentCore's control-plane runtime operations (AGENTCORE-WIRE.md
// §3.1–§3.9): agent runtimes, their versions and their endpoints. Handlers decode and
// validate the wire request, call internal/control, and render the wire response; every error
// goes through httpapi's single error mapping.
package controlplane

import (
	"log/slog"
	"net/http"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/control"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
)

// API holds the control-plane handlers.
type API struct {
	svc *control.Service
	log *slog.Logger
}

// New returns the control-plane API over svc.
func New(svc *control.Service, logger *slog.Logger) *API {
	return &API{svc: svc, log: logger}
}

// Register adds every control-plane route to mux. Each path is registered with and without
// its trailing slash, because SDKs send the slash and Go's ServeMux would otherwise answer
// the other form with a redirect that signed clients do not follow.
func (a *API) Register(mux *http.ServeMux) {
	routes := []struct {
		method, path string
		h            httpapi.HandlerFunc
	}{
		{"PUT", "/runtimes", a.createRuntime},
		{"POST", "/runtimes", a.listRuntimes},
		{"GET", "/runtimes/{agentRuntimeId}", a.getRuntime},
		{"PUT", "/runtimes/{agentRuntimeId}", a.updateRuntime},
		{"DELETE", "/runtimes/{agentRuntimeId}", a.deleteRuntime},
		{"POST", "/runtimes/{agentRuntimeId}/versions", a.listVersions},
		{"PUT", "/runtimes/{agentRuntimeId}/runtime-endpoints", a.createEndpoint},
		{"POST", "/runtimes/{agentRuntimeId}/runtime-endpoints", a.listEndpoints},
		{"GET", "/runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}", a.getEndpoint},
		{"PUT", "/runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}", a.updateEndpoint},
		{"DELETE", "/runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}", a.deleteEndpoint},
	}
	fallback := httpapi.UnknownOperation(a.log)
	seen := map[string]bool{}
	for _, rt := range routes {
		h := httpapi.Handle(a.log, rt.h)
		mux.Handle(rt.method+" "+rt.path, h)
		mux.Handle(rt.method+" "+rt.path+"/{$}", h)
		// Other methods on a known path are unknown operations, not Go's plain-text 405.
		if !seen[rt.path] {
			seen[rt.path] = true
			mux.Handle(rt.path, fallback)
			mux.Handle(rt.path+"/{$}", fallback)
		}
	}
}

// runtimeID reads and checks the agentRuntimeId label.
func runtimeID(r *http.Request) (string, error) {
	id := r.PathValue("agentRuntimeId")
	if !catalog.ValidRuntimeID(id) {
		return "", errdefs.Invalid("agentRuntimeId", "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$")
	}
	return id, nil
}

// endpointName reads and checks the endpointName label.
func endpointName(r *http.Request) (string, error) {
	name := r.PathValue("endpointName")
	if !catalog.ValidName(name) {
		return "", errdefs.Invalid("endpointName", "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$")
	}
	return name, nil
}

// endpointLabels reads the agentRuntimeId and endpointName labels.
func endpointLabels(r *http.Request) (id, name string, err error) {
	if id, err = runtimeID(r); err != nil {
		return "", "", err
	}
	if name, err = endpointName(r); err != nil {
		return "", "", err
	}
	return id, name, nil
}

// page reads maxResults/nextToken from the query, validated.
func page(r *http.Request, kind string) (limit int, cursor string, err error) {
	maxResults, err := httpapi.QueryInt(r, "maxResults")
	if err != nil {
		return 0, "", err
	}
	next := httpapi.QueryString(r, "nextToken")
	if err := catalog.ValidatePagination(maxResults, next); err != nil {
		return 0, "", err
	}
	limit = 10
	if maxResults != nil {
		limit = *maxResults
	}
	if next != nil {
		if cursor, err = httpapi.DecodePageToken(kind, *next); err != nil {
			return 0, "", err
		}
	}
	return limit, cursor, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
