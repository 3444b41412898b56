package control

import (
	"context"
	"errors"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// work prepares queued versions until ctx ends.
func (s *Service) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-s.queue:
			s.prepare(ctx, k)
			s.mu.Lock()
			delete(s.queued, k)
			s.mu.Unlock()
		}
	}
}

// prepare fetches and prepares one version's artifact and records the outcome, moving the
// endpoints that target the version.
func (s *Service) prepare(ctx context.Context, k versionKey) {
	var v catalog.Version
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		v, err = tx.Runtimes().GetVersion(ctx, k.runtimeID, k.number)
		return err
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return // deleted meanwhile
	}
	if err != nil {
		s.log.ErrorContext(ctx, "load version to prepare", "runtime", k.runtimeID, "version", k.number, "err", err)
		return
	}
	if !v.Status.Pending() || v.Config.AgentRuntimeArtifact == nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, s.opts.PrepareTimeout)
	prepared, perr := s.prep.Prepare(pctx, *v.Config.AgentRuntimeArtifact)
	cancel()
	if perr != nil && ctx.Err() != nil {
		return // shutting down: stays pending, resumes on the next start
	}
	var live []string
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		live, err = s.finish(ctx, tx, k, prepared, perr)
		return err
	})
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		s.log.ErrorContext(ctx, "record preparation outcome", "runtime", k.runtimeID, "version", k.number, "err", err)
		return
	}
	for _, name := range live {
		s.endpointLive(ctx, k.runtimeID, name)
	}
	if perr != nil {
		s.log.WarnContext(ctx, "artifact preparation failed", "runtime", k.runtimeID, "version", k.number, "err", perr)
	} else {
		s.log.InfoContext(ctx, "artifact prepared", "runtime", k.runtimeID, "version", k.number, "digest", prepared.Digest)
	}
}

// finish records the outcome inside one transaction. It returns the endpoints that went
// live on the version.
func (s *Service) finish(ctx context.Context, tx store.Tx, k versionKey, prepared catalog.PreparedArtifact, perr error) ([]string, error) {
	rs := tx.Runtimes()
	v, err := rs.GetVersion(ctx, k.runtimeID, k.number)
	if err != nil {
		return nil, err
	}
	if !v.Status.Pending() {
		return nil, nil
	}
	now := s.now()
	failed := perr != nil
	if failed {
		v.FailureReason = s.opts.FailureReason(perr)
		if v.Status == catalog.StatusCreating {
			v.Status = catalog.StatusCreateFailed
		} else {
			v.Status = catalog.StatusUpdateFailed
		}
	} else {
		p := prepared
		v.Prepared = &p
		v.Status = catalog.StatusReady
		v.FailureReason = ""
	}
	v.UpdatedAt = now
	if err := rs.UpdateVersion(ctx, v); err != nil {
		return nil, err
	}
	eps, err := allEndpoints(ctx, rs, k.runtimeID)
	if err != nil {
		return nil, err
	}
	var live []string
	for _, e := range eps {
		if e.TargetVersion != k.number || !e.Status.Pending() {
			continue
		}
		if failed {
			e.FailureReason = v.FailureReason
			if e.LiveVersion == 0 {
				e.Status = catalog.StatusCreateFailed
			} else {
				e.Status = catalog.StatusUpdateFailed
			}
		} else {
			e.LiveVersion = k.number
			e.Status = catalog.StatusReady
			e.FailureReason = ""
			live = append(live, e.Name)
		}
		e.UpdatedAt = now
		if err := rs.UpdateEndpoint(ctx, e); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// endpointLive reports an endpoint that started serving a new READY version.
func (s *Service) endpointLive(ctx context.Context, runtimeID, endpoint string) {
	if s.opts.OnEndpointLive != nil {
		s.opts.OnEndpointLive(ctx, runtimeID, endpoint)
	}
}

// allEndpoints lists every endpoint of a runtime (there are at most MaxEndpoints; a limit
// of zero is no limit).
func allEndpoints(ctx context.Context, rs store.Runtimes, runtimeID string) ([]catalog.Endpoint, error) {
	return rs.ListEndpoints(ctx, runtimeID, "", 0)
}
