package dataplane

import (
	"sync"
	"time"

	"berth.dev/berth/internal/catalog"
)

// resolveTTL bounds how long a resolution is reused even when this process saw no change:
// changes made by another replica sharing the store become visible within it.
const resolveTTL = 2 * time.Second

// resolution is what an address resolved to.
type resolution struct {
	rt  catalog.Runtime
	ep  catalog.Endpoint
	v   catalog.Version
	gen uint64
	at  time.Time
}

// resolveCache keeps the last resolution of each address, so warm invocations do not read
// the store. An entry is valid while the control service's generation is unchanged (no
// change committed through it since the entry was read) and younger than resolveTTL.
type resolveCache struct {
	mu sync.Mutex
	m  map[address]resolution
}

func newResolveCache() *resolveCache { return &resolveCache{m: map[address]resolution{}} }

func (c *resolveCache) get(a address, gen uint64, now time.Time) (resolution, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[a]
	if !ok || r.gen != gen || now.Sub(r.at) > resolveTTL {
		return resolution{}, false
	}
	return r, true
}

// put stores r, read at generation r.gen (taken before the read). Entries of older
// generations are dropped, which keeps the map to the addresses in use.
func (c *resolveCache) put(a address, r resolution) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.gen != r.gen {
			delete(c.m, k)
		}
	}
	c.m[a] = r
}
