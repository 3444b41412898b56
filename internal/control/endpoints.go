package control

import (
	"context"
	"errors"
	"fmt"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// EndpointInput is a validated CreateAgentRuntimeEndpoint or UpdateAgentRuntimeEndpoint
// request. catalog.Version 0 means "the latest version" on create and "unchanged" on update.
type EndpointInput struct {
	Name        string
	Version     int
	Description *string
	Tags        map[string]string
	ClientToken string `json:"-"`
}

// EndpointResult is an endpoint with the runtime it belongs to.
type EndpointResult struct {
	Runtime  catalog.Runtime
	Endpoint catalog.Endpoint
}

// endpointRequest is what the client token of a create or update of an endpoint covers.
type endpointRequest struct {
	RuntimeID string
	In        EndpointInput
}

// route points e at version n of the runtime: READY versions go live at once, pending ones
// are followed by the preparation worker, failed ones cannot be routed to.
func route(ctx context.Context, rs store.Runtimes, e *catalog.Endpoint, n int) error {
	v, err := rs.GetVersion(ctx, e.RuntimeID, n)
	if err != nil {
		return notFound(err, "version %d of agent runtime %s does not exist", n, e.RuntimeID)
	}
	e.TargetVersion = n
	e.FailureReason = ""
	switch {
	case v.Status == catalog.StatusReady:
		e.LiveVersion = n
		e.Status = catalog.StatusReady
	case v.Status.Pending():
		e.Status = catalog.StatusUpdating
		if e.LiveVersion == 0 {
			e.Status = catalog.StatusCreating
		}
	default:
		return fmt.Errorf("%w: version %d of %s is %s (%s); an endpoint cannot point at it",
			errdefs.ErrConflict, n, e.RuntimeID, v.Status, v.FailureReason)
	}
	return nil
}

// CreateEndpoint adds a custom endpoint pinned to a version (default: the latest).
func (s *Service) CreateEndpoint(ctx context.Context, runtimeID string, in EndpointInput) (EndpointResult, error) {
	var res EndpointResult
	input := endpointRequest{runtimeID, in}
	err := s.idempotent(ctx, "CreateAgentRuntimeEndpoint:"+runtimeID, in.ClientToken, input, &res, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rt, err := rs.GetRuntime(ctx, runtimeID)
		if err != nil {
			return notFound(err, "agent runtime %s does not exist", runtimeID)
		}
		eps, err := allEndpoints(ctx, rs, runtimeID)
		if err != nil {
			return err
		}
		if len(eps) >= s.opts.MaxEndpoints {
			return fmt.Errorf("%w: agent runtime %s already has %d endpoints", errdefs.ErrQuotaExceeded, runtimeID, len(eps))
		}
		n := in.Version
		if n == 0 {
			n = rt.LatestVersion
		}
		now := s.now()
		e := catalog.Endpoint{
			RuntimeID: runtimeID, Name: in.Name, ID: catalog.NewEndpointID(in.Name),
			Description: in.Description, Tags: in.Tags, CreatedAt: now, UpdatedAt: now,
		}
		if err := route(ctx, rs, &e, n); err != nil {
			return err
		}
		if err := rs.CreateEndpoint(ctx, e); err != nil {
			if errors.Is(err, errdefs.ErrConflict) {
				return fmt.Errorf("%w: endpoint %s of agent runtime %s already exists", errdefs.ErrConflict, in.Name, runtimeID)
			}
			return fmt.Errorf("create endpoint: %w", err)
		}
		res = EndpointResult{Runtime: rt, Endpoint: e}
		return nil
	})
	if err == nil && res.Endpoint.Status == catalog.StatusReady {
		s.endpointLive(ctx, runtimeID, res.Endpoint.Name)
	}
	return res, err
}

// UpdateEndpoint re-points a custom endpoint and/or changes its description. DEFAULT
// always follows the latest version, so only its description may change.
func (s *Service) UpdateEndpoint(ctx context.Context, runtimeID string, in EndpointInput) (EndpointResult, error) {
	var (
		res   EndpointResult
		moved bool // onto a READY version it did not serve
	)
	input := endpointRequest{runtimeID, in}
	err := s.idempotent(ctx, "UpdateAgentRuntimeEndpoint:"+runtimeID+"/"+in.Name, in.ClientToken, input, &res, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rt, err := rs.GetRuntime(ctx, runtimeID)
		if err != nil {
			return notFound(err, "agent runtime %s does not exist", runtimeID)
		}
		e, err := rs.GetEndpoint(ctx, runtimeID, in.Name)
		if err != nil {
			return notFound(err, "endpoint %s of agent runtime %s does not exist", in.Name, runtimeID)
		}
		if in.Version != 0 && in.Version != e.TargetVersion {
			if e.Name == catalog.DefaultEndpoint {
				return fmt.Errorf("%w: the DEFAULT endpoint always points at the latest version; update the agent runtime or use a custom endpoint", errdefs.ErrConflict)
			}
			was := e.LiveVersion
			if err := route(ctx, rs, &e, in.Version); err != nil {
				return err
			}
			moved = e.Status == catalog.StatusReady && e.LiveVersion != was
		}
		if in.Description != nil {
			e.Description = in.Description
		}
		e.UpdatedAt = s.now()
		if err := rs.UpdateEndpoint(ctx, e); err != nil {
			return fmt.Errorf("update endpoint: %w", err)
		}
		res = EndpointResult{Runtime: rt, Endpoint: e}
		return nil
	})
	if err == nil && moved {
		s.endpointLive(ctx, runtimeID, res.Endpoint.Name)
	}
	return res, err
}

// DeleteEndpoint removes a custom endpoint; DEFAULT goes only with its runtime.
func (s *Service) DeleteEndpoint(ctx context.Context, runtimeID, name, clientToken string) error {
	var res struct{ Deleted bool }
	input := struct{ RuntimeID, Name string }{runtimeID, name}
	err := s.idempotent(ctx, "DeleteAgentRuntimeEndpoint:"+runtimeID+"/"+name, clientToken, input, &res, func(tx store.Tx) error {
		if name == catalog.DefaultEndpoint {
			return fmt.Errorf("%w: the DEFAULT endpoint is deleted automatically with its agent runtime", errdefs.ErrConflict)
		}
		rs := tx.Runtimes()
		if _, err := rs.GetRuntime(ctx, runtimeID); err != nil {
			return notFound(err, "agent runtime %s does not exist", runtimeID)
		}
		if err := rs.DeleteEndpoint(ctx, runtimeID, name); err != nil {
			return notFound(err, "endpoint %s of agent runtime %s does not exist", name, runtimeID)
		}
		res.Deleted = true
		return nil
	})
	if err == nil && s.opts.OnEndpointDeleted != nil {
		s.opts.OnEndpointDeleted(ctx, runtimeID, name)
	}
	return err
}

// GetEndpoint returns one endpoint.
func (s *Service) GetEndpoint(ctx context.Context, runtimeID, name string) (EndpointResult, error) {
	var res EndpointResult
	err := s.st.View(ctx, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rt, err := rs.GetRuntime(ctx, runtimeID)
		if err != nil {
			return notFound(err, "agent runtime %s does not exist", runtimeID)
		}
		e, err := rs.GetEndpoint(ctx, runtimeID, name)
		if err != nil {
			return notFound(err, "endpoint %s of agent runtime %s does not exist", name, runtimeID)
		}
		res = EndpointResult{Runtime: rt, Endpoint: e}
		return nil
	})
	return res, err
}

// ListEndpoints returns up to limit endpoints of a runtime after afterName.
func (s *Service) ListEndpoints(ctx context.Context, runtimeID, afterName string, limit int) (catalog.Runtime, []catalog.Endpoint, error) {
	return listUnder(ctx, s, runtimeID, func(rs store.Runtimes) ([]catalog.Endpoint, error) {
		return rs.ListEndpoints(ctx, runtimeID, afterName, limit)
	})
}
