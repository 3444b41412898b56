package control

import (
	"context"
	"errors"
	"fmt"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// CreateRuntimeInput is a validated CreateAgentRuntime request.
type CreateRuntimeInput struct {
	Name        string
	Config      catalog.RuntimeConfig
	Tags        map[string]string
	ClientToken string `json:"-"`
}

// RuntimeResult is a runtime together with one of its versions.
type RuntimeResult struct {
	Runtime catalog.Runtime
	Version catalog.Version
}

// CreateRuntime writes the runtime, version 1 and the DEFAULT endpoint in one transaction
// and queues the artifact for preparation.
func (s *Service) CreateRuntime(ctx context.Context, in CreateRuntimeInput) (RuntimeResult, error) {
	var res RuntimeResult
	err := s.idempotent(ctx, "CreateAgentRuntime", in.ClientToken, in, &res, func(tx store.Tx) error {
		now := s.now()
		rt := catalog.Runtime{ID: catalog.NewRuntimeID(in.Name), Name: in.Name, LatestVersion: 1, Tags: in.Tags, CreatedAt: now, UpdatedAt: now}
		v := catalog.Version{RuntimeID: rt.ID, Number: 1, Config: in.Config, Status: catalog.StatusCreating, CreatedAt: now, UpdatedAt: now}
		ep := catalog.Endpoint{
			RuntimeID: rt.ID, Name: catalog.DefaultEndpoint, ID: catalog.NewEndpointID(catalog.DefaultEndpoint),
			TargetVersion: 1, Status: catalog.StatusCreating, CreatedAt: now, UpdatedAt: now,
		}
		rs := tx.Runtimes()
		if err := rs.CreateRuntime(ctx, rt); err != nil {
			if errors.Is(err, errdefs.ErrConflict) {
				return fmt.Errorf("%w: an agent runtime named %q already exists", errdefs.ErrConflict, in.Name)
			}
			return fmt.Errorf("create runtime: %w", err)
		}
		if err := rs.CreateVersion(ctx, v); err != nil {
			return fmt.Errorf("create version: %w", err)
		}
		if err := rs.CreateEndpoint(ctx, ep); err != nil {
			return fmt.Errorf("create DEFAULT endpoint: %w", err)
		}
		res = RuntimeResult{Runtime: rt, Version: v}
		return nil
	})
	if err != nil {
		return RuntimeResult{}, err
	}
	s.enqueue(versionKey{res.Runtime.ID, res.Version.Number})
	return res, nil
}

// UpdateRuntime replaces the whole configuration: it writes the next immutable version and
// points DEFAULT at it. It is refused while the latest version is still being prepared.
func (s *Service) UpdateRuntime(ctx context.Context, id string, cfg catalog.RuntimeConfig, clientToken string) (RuntimeResult, error) {
	var res RuntimeResult
	input := struct {
		ID     string
		Config catalog.RuntimeConfig
	}{id, cfg}
	err := s.idempotent(ctx, "UpdateAgentRuntime:"+id, clientToken, input, &res, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rt, err := rs.GetRuntime(ctx, id)
		if err != nil {
			return notFound(err, "agent runtime %s does not exist", id)
		}
		latest, err := rs.GetVersion(ctx, id, rt.LatestVersion)
		if err != nil {
			return fmt.Errorf("get latest version: %w", err)
		}
		if latest.Status.Pending() {
			return fmt.Errorf("%w: agent runtime %s is %s; wait until it is READY before updating it", errdefs.ErrConflict, id, latest.Status)
		}
		next := rt.LatestVersion + 1
		if next > 99999 {
			return fmt.Errorf("%w: agent runtime %s has reached the last version number", errdefs.ErrQuotaExceeded, id)
		}
		if n, err := countVersions(ctx, rs, id, s.opts.MaxVersions); err != nil {
			return err
		} else if n >= s.opts.MaxVersions {
			return fmt.Errorf("%w: agent runtime %s already has %d versions; delete old versions first", errdefs.ErrQuotaExceeded, id, n)
		}
		now := s.now()
		v := catalog.Version{RuntimeID: id, Number: next, Config: cfg, Status: catalog.StatusUpdating, CreatedAt: now, UpdatedAt: now}
		if err := rs.CreateVersion(ctx, v); err != nil {
			return fmt.Errorf("create version: %w", err)
		}
		rt.LatestVersion = next
		rt.UpdatedAt = now
		if err := rs.UpdateRuntime(ctx, rt); err != nil {
			return fmt.Errorf("update runtime: %w", err)
		}
		def, err := rs.GetEndpoint(ctx, id, catalog.DefaultEndpoint)
		if err != nil {
			return fmt.Errorf("get DEFAULT endpoint: %w", err)
		}
		def.TargetVersion = next
		def.Status = catalog.StatusUpdating
		if def.LiveVersion == 0 {
			def.Status = catalog.StatusCreating
		}
		def.UpdatedAt = now
		if err := rs.UpdateEndpoint(ctx, def); err != nil {
			return fmt.Errorf("move DEFAULT endpoint: %w", err)
		}
		res = RuntimeResult{Runtime: rt, Version: v}
		return nil
	})
	if err != nil {
		return RuntimeResult{}, err
	}
	s.enqueue(versionKey{id, res.Version.Number})
	return res, nil
}

// countVersions counts up to limit versions of a runtime.
func countVersions(ctx context.Context, rs store.Runtimes, id string, limit int) (int, error) {
	vs, err := rs.ListVersions(ctx, id, 0, limit)
	if err != nil {
		return 0, fmt.Errorf("count versions: %w", err)
	}
	return len(vs), nil
}

// DeleteResult is what a delete removed.
type DeleteResult struct {
	RuntimeID string
	Version   int // 0 when the whole runtime was deleted
}

// DeleteRuntime removes the runtime with its versions and endpoints, or only one version
// when version > 0. A version still served by an endpoint, or the latest one, cannot be
// deleted on its own.
func (s *Service) DeleteRuntime(ctx context.Context, id string, version int, clientToken string) (DeleteResult, error) {
	var res DeleteResult
	input := struct {
		ID      string
		Version int
	}{id, version}
	err := s.idempotent(ctx, "DeleteAgentRuntime:"+id, clientToken, input, &res, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rt, err := rs.GetRuntime(ctx, id)
		if err != nil {
			return notFound(err, "agent runtime %s does not exist", id)
		}
		res = DeleteResult{RuntimeID: id, Version: version}
		if version == 0 {
			return rs.DeleteRuntime(ctx, id)
		}
		if _, err := rs.GetVersion(ctx, id, version); err != nil {
			return notFound(err, "version %d of agent runtime %s does not exist", version, id)
		}
		if version == rt.LatestVersion {
			return fmt.Errorf("%w: version %d is the latest version of %s; delete the runtime or update it first", errdefs.ErrConflict, version, id)
		}
		eps, err := allEndpoints(ctx, rs, id)
		if err != nil {
			return err
		}
		for _, e := range eps {
			if e.LiveVersion == version || e.TargetVersion == version {
				return fmt.Errorf("%w: version %d is used by endpoint %s", errdefs.ErrConflict, version, e.Name)
			}
		}
		return rs.DeleteVersion(ctx, id, version)
	})
	if err == nil {
		if version == 0 && s.opts.OnRuntimeDeleted != nil {
			s.opts.OnRuntimeDeleted(ctx, id)
		}
		s.kickGC()
	}
	return res, err
}

// GetRuntime returns the runtime with its latest version, or with version n when n > 0.
func (s *Service) GetRuntime(ctx context.Context, id string, n int) (RuntimeResult, error) {
	var res RuntimeResult
	err := s.st.View(ctx, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rt, err := rs.GetRuntime(ctx, id)
		if err != nil {
			return notFound(err, "agent runtime %s does not exist", id)
		}
		if n == 0 {
			n = rt.LatestVersion
		}
		v, err := rs.GetVersion(ctx, id, n)
		if err != nil {
			return notFound(err, "version %d of agent runtime %s does not exist", n, id)
		}
		res = RuntimeResult{Runtime: rt, Version: v}
		return nil
	})
	return res, err
}

// ListRuntimes returns up to limit runtimes after afterID, each with its latest version.
func (s *Service) ListRuntimes(ctx context.Context, afterID string, limit int) ([]RuntimeResult, error) {
	var out []RuntimeResult
	err := s.st.View(ctx, func(tx store.Tx) error {
		rs := tx.Runtimes()
		rts, err := rs.ListRuntimes(ctx, afterID, limit)
		if err != nil {
			return fmt.Errorf("list runtimes: %w", err)
		}
		for _, rt := range rts {
			v, err := rs.GetVersion(ctx, rt.ID, rt.LatestVersion)
			if err != nil {
				return fmt.Errorf("get latest version of %s: %w", rt.ID, err)
			}
			out = append(out, RuntimeResult{Runtime: rt, Version: v})
		}
		return nil
	})
	return out, err
}

// ListVersions returns up to limit versions of a runtime older than before (0: newest
// first from the latest).
func (s *Service) ListVersions(ctx context.Context, id string, before, limit int) (catalog.Runtime, []catalog.Version, error) {
	return listUnder(ctx, s, id, func(rs store.Runtimes) ([]catalog.Version, error) {
		return rs.ListVersions(ctx, id, before, limit)
	})
}

// listUnder reads runtime id and, in the same read transaction, what list returns.
func listUnder[T any](ctx context.Context, s *Service, id string, list func(store.Runtimes) ([]T, error)) (catalog.Runtime, []T, error) {
	var (
		rt  catalog.Runtime
		out []T
	)
	err := s.st.View(ctx, func(tx store.Tx) error {
		rs := tx.Runtimes()
		var err error
		if rt, err = rs.GetRuntime(ctx, id); err != nil {
			return notFound(err, "agent runtime %s does not exist", id)
		}
		out, err = list(rs)
		return err
	})
	return rt, out, err
}
