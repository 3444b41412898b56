package controlplane

import (
	"net/http"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/control"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
)

func optVersion(s *string) int {
	if s == nil {
		return 0
	}
	n, _ := catalog.ParseVersion(*s) // validated before
	return n
}

func (a *API) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, err := runtimeID(r)
	if err != nil {
		return err
	}
	var req createEndpointRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := catalog.ValidateCreateEndpoint(req.Name, req.AgentRuntimeVersion, req.Description, req.ClientToken, req.Tags); err != nil {
		return err
	}
	res, err := a.svc.CreateEndpoint(r.Context(), id, control.EndpointInput{
		Name: req.Name, Version: optVersion(req.AgentRuntimeVersion), Description: req.Description,
		Tags: req.Tags, ClientToken: deref(req.ClientToken),
	})
	if err != nil {
		return err
	}
	acct := a.svc.Account()
	e := res.Endpoint
	return httpapi.WriteJSON(w, http.StatusAccepted, createEndpointResponse{
		TargetVersion:           version(e.TargetVersion),
		AgentRuntimeEndpointArn: acct.EndpointARN(id, e.Name),
		AgentRuntimeArn:         acct.RuntimeARN(id),
		AgentRuntimeID:          id,
		EndpointName:            e.Name,
		Status:                  e.Status,
		CreatedAt:               ts(e.CreatedAt),
	})
}

func (a *API) updateEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, name, err := endpointLabels(r)
	if err != nil {
		return err
	}
	var req updateEndpointRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := catalog.ValidateUpdateEndpoint(req.AgentRuntimeVersion, req.Description, req.ClientToken); err != nil {
		return err
	}
	res, err := a.svc.UpdateEndpoint(r.Context(), id, control.EndpointInput{
		Name: name, Version: optVersion(req.AgentRuntimeVersion), Description: req.Description,
		ClientToken: deref(req.ClientToken),
	})
	if err != nil {
		return err
	}
	acct := a.svc.Account()
	e := res.Endpoint
	return httpapi.WriteJSON(w, http.StatusAccepted, updateEndpointResponse{
		LiveVersion:             version(e.LiveVersion),
		TargetVersion:           version(e.TargetVersion),
		AgentRuntimeEndpointArn: acct.EndpointARN(id, e.Name),
		AgentRuntimeArn:         acct.RuntimeARN(id),
		Status:                  e.Status,
		CreatedAt:               ts(e.CreatedAt),
		LastUpdatedAt:           ts(e.UpdatedAt),
	})
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, name, err := endpointLabels(r)
	if err != nil {
		return err
	}
	token := httpapi.QueryString(r, "clientToken")
	var fields errdefs.Fields
	catalog.ValidateClientToken("clientToken", token, &fields)
	if err := fields.Err(); err != nil {
		return err
	}
	if err := a.svc.DeleteEndpoint(r.Context(), id, name, deref(token)); err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, deleteEndpointResponse{
		Status: catalog.StatusDeleting, AgentRuntimeID: id, EndpointName: name,
	})
}

func (a *API) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, name, err := endpointLabels(r)
	if err != nil {
		return err
	}
	res, err := a.svc.GetEndpoint(r.Context(), id, name)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, a.endpoint(res.Endpoint))
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	id, err := runtimeID(r)
	if err != nil {
		return err
	}
	limit, after, err := page(r, "endpoints:"+id)
	if err != nil {
		return err
	}
	_, eps, err := a.svc.ListEndpoints(r.Context(), id, after, limit+1)
	if err != nil {
		return err
	}
	out := listEndpointsResponse{RuntimeEndpoints: []endpointResponse{}}
	if len(eps) > limit {
		eps = eps[:limit]
		out.NextToken = httpapi.EncodePageToken("endpoints:"+id, eps[limit-1].Name)
	}
	for _, e := range eps {
		out.RuntimeEndpoints = append(out.RuntimeEndpoints, a.endpoint(e))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (a *API) endpoint(e catalog.Endpoint) endpointResponse {
	acct := a.svc.Account()
	return endpointResponse{
		Name:                    e.Name,
		ID:                      e.ID,
		LiveVersion:             version(e.LiveVersion),
		TargetVersion:           version(e.TargetVersion),
		AgentRuntimeEndpointArn: acct.EndpointARN(e.RuntimeID, e.Name),
		AgentRuntimeArn:         acct.RuntimeARN(e.RuntimeID),
		Description:             e.Description,
		Status:                  e.Status,
		FailureReason:           e.FailureReason,
		CreatedAt:               ts(e.CreatedAt),
		LastUpdatedAt:           ts(e.UpdatedAt),
	}
}
