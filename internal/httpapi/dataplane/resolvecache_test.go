package dataplane

import (
	"testing"
	"time"

	"berth.dev/berth/internal/catalog"
)

func TestResolveCache_Validity(t *testing.T) {
	c := newResolveCache()
	a := address{RuntimeID: "a-0123456789", Endpoint: "DEFAULT"}
	now := time.Now()
	c.put(a, resolution{v: catalog.Version{Number: 3}, gen: 7, at: now})
	if r, ok := c.get(a, 7, now.Add(time.Second)); !ok || r.v.Number != 3 {
		t.Errorf("fresh entry missed: %v %v", r, ok)
	}
	if _, ok := c.get(a, 8, now); ok {
		t.Error("entry of an older generation served")
	}
	if _, ok := c.get(a, 7, now.Add(resolveTTL+time.Millisecond)); ok {
		t.Error("expired entry served")
	}
	if _, ok := c.get(address{RuntimeID: "b-0123456789", Endpoint: "DEFAULT"}, 7, now); ok {
		t.Error("unknown address served")
	}
	c.put(address{RuntimeID: "b-0123456789", Endpoint: "DEFAULT"}, resolution{gen: 8, at: now})
	if len(c.m) != 1 {
		t.Errorf("stale generations kept: %d entries", len(c.m))
	}
}
