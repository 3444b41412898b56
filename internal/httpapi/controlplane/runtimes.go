package controlplane

import (
	"net/http"
	"strconv"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/control"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
)

func (a *API) createRuntime(w http.ResponseWriter, r *http.Request) error {
	var req createRuntimeRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := catalog.ValidateCreateRuntime(req.AgentRuntimeName, req.RuntimeConfig, req.Tags, req.ClientToken); err != nil {
		return err
	}
	res, err := a.svc.CreateRuntime(r.Context(), control.CreateRuntimeInput{
		Name: req.AgentRuntimeName, Config: req.RuntimeConfig, Tags: req.Tags, ClientToken: deref(req.ClientToken),
	})
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, a.mutation(res, false))
}

func (a *API) updateRuntime(w http.ResponseWriter, r *http.Request) error {
	id, err := runtimeID(r)
	if err != nil {
		return err
	}
	var req updateRuntimeRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := catalog.ValidateUpdateRuntime(req.RuntimeConfig, req.ClientToken); err != nil {
		return err
	}
	res, err := a.svc.UpdateRuntime(r.Context(), id, req.RuntimeConfig, deref(req.ClientToken))
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, a.mutation(res, true))
}

func (a *API) mutation(res control.RuntimeResult, update bool) runtimeMutationResponse {
	acct := a.svc.Account()
	out := runtimeMutationResponse{
		AgentRuntimeArn:         acct.RuntimeARN(res.Runtime.ID),
		AgentRuntimeID:          res.Runtime.ID,
		AgentRuntimeVersion:     catalog.FormatVersion(res.Version.Number),
		WorkloadIdentityDetails: workloadIdentityDetails{acct.WorkloadIdentityARN(res.Runtime.ID)},
		CreatedAt:               ts(res.Runtime.CreatedAt),
		Status:                  res.Version.Status,
	}
	if update {
		out.LastUpdatedAt = ts(res.Version.CreatedAt)
	}
	return out
}

func (a *API) getRuntime(w http.ResponseWriter, r *http.Request) error {
	id, err := runtimeID(r)
	if err != nil {
		return err
	}
	n := 0
	if v := httpapi.QueryString(r, "version"); v != nil {
		if n, err = catalog.ParseVersion(*v); err != nil {
			return errdefs.Invalid("version", "Member must satisfy regular expression pattern: ^([1-9][0-9]{0,4})$")
		}
	}
	res, err := a.svc.GetRuntime(r.Context(), id, n)
	if err != nil {
		return err
	}
	acct := a.svc.Account()
	cfg := res.Version.Config
	idle, maxLife := catalog.EffectiveLifecycle(cfg)
	idleS, maxS := int32(idle.Seconds()), int32(maxLife.Seconds())
	cfg.LifecycleConfiguration = &catalog.LifecycleConfiguration{IdleRuntimeSessionTimeout: &idleS, MaxLifetime: &maxS}
	return httpapi.WriteJSON(w, http.StatusOK, getRuntimeResponse{
		AgentRuntimeArn:         acct.RuntimeARN(res.Runtime.ID),
		AgentRuntimeName:        res.Runtime.Name,
		AgentRuntimeID:          res.Runtime.ID,
		AgentRuntimeVersion:     catalog.FormatVersion(res.Version.Number),
		CreatedAt:               ts(res.Runtime.CreatedAt),
		LastUpdatedAt:           ts(res.Version.UpdatedAt),
		Status:                  res.Version.Status,
		FailureReason:           res.Version.FailureReason,
		WorkloadIdentityDetails: workloadIdentityDetails{acct.WorkloadIdentityARN(res.Runtime.ID)},
		RuntimeConfig:           cfg,
	})
}

func (a *API) deleteRuntime(w http.ResponseWriter, r *http.Request) error {
	id, err := runtimeID(r)
	if err != nil {
		return err
	}
	token := httpapi.QueryString(r, "clientToken")
	var fields errdefs.Fields
	catalog.ValidateClientToken("clientToken", token, &fields)
	n := 0
	if v := httpapi.QueryString(r, "version"); v != nil {
		if n, err = catalog.ParseVersion(*v); err != nil {
			fields.Add("version", "Member must satisfy regular expression pattern: ^([1-9][0-9]{0,4})$")
		}
	}
	if err := fields.Err(); err != nil {
		return err
	}
	res, err := a.svc.DeleteRuntime(r.Context(), id, n, deref(token))
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, deleteRuntimeResponse{
		Status: catalog.StatusDeleting, AgentRuntimeID: res.RuntimeID, AgentRuntimeVersion: version(res.Version),
	})
}

func (a *API) listRuntimes(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := page(r, "runtimes")
	if err != nil {
		return err
	}
	// Fetch one more than asked to learn whether another page exists.
	items, err := a.svc.ListRuntimes(r.Context(), after, limit+1)
	if err != nil {
		return err
	}
	out := listRuntimesResponse{AgentRuntimes: []runtimeSummary{}}
	if len(items) > limit {
		items = items[:limit]
		out.NextToken = httpapi.EncodePageToken("runtimes", items[limit-1].Runtime.ID)
	}
	for _, it := range items {
		out.AgentRuntimes = append(out.AgentRuntimes, a.summary(it.Runtime, it.Version))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (a *API) listVersions(w http.ResponseWriter, r *http.Request) error {
	id, err := runtimeID(r)
	if err != nil {
		return err
	}
	limit, cursor, err := page(r, "versions:"+id)
	if err != nil {
		return err
	}
	before := 0
	if cursor != "" {
		if before, err = strconv.Atoi(cursor); err != nil {
			return errdefs.Invalid("nextToken", "the pagination token is not valid for this operation")
		}
	}
	rt, vs, err := a.svc.ListVersions(r.Context(), id, before, limit+1)
	if err != nil {
		return err
	}
	out := listRuntimesResponse{AgentRuntimes: []runtimeSummary{}}
	if len(vs) > limit {
		vs = vs[:limit]
		out.NextToken = httpapi.EncodePageToken("versions:"+id, strconv.Itoa(vs[limit-1].Number))
	}
	for _, v := range vs {
		out.AgentRuntimes = append(out.AgentRuntimes, a.summary(rt, v))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (a *API) summary(rt catalog.Runtime, v catalog.Version) runtimeSummary {
	return runtimeSummary{
		AgentRuntimeArn:     a.svc.Account().RuntimeARN(rt.ID),
		AgentRuntimeID:      rt.ID,
		AgentRuntimeVersion: catalog.FormatVersion(v.Number),
		AgentRuntimeName:    rt.Name,
		Description:         v.Config.Description,
		LastUpdatedAt:       ts(v.UpdatedAt),
		Status:              v.Status,
	}
}
