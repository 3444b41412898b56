package server

import (
	"context"
	"time"
)

// endpointLive pre-warms the pool of an endpoint that just went live on a new version, so
// the first session after a deploy is a pool hit. It returns at once: the version is read
// and the pool filled in the background.
func (s *Server) endpointLive(runtimeID, endpoint string) {
	plane := s.plane.Load()
	if plane == nil || s.cfg.Sessions.PoolSize == 0 {
		return // not serving yet: the pool fills on the first session instead
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := plane.WarmEndpoint(ctx, runtimeID, endpoint); err != nil {
			s.log.Warn("warm pool of a new version", "runtime", runtimeID, "endpoint", endpoint, "err", err)
		}
	}()
}

// endpointDeleted empties a deleted endpoint's pool in the background.
func (s *Server) endpointDeleted(runtimeID, endpoint string) {
	plane := s.plane.Load()
	if plane == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		plane.RetireEndpoint(ctx, runtimeID, endpoint)
	}()
}
