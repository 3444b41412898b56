package image_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/image"
)

func TestKeepVersions(t *testing.T) {
	a := catalog.Version{Number: 1, Status: catalog.StatusReady, Prepared: &catalog.PreparedArtifact{Digest: "sha256:a"}}
	b := catalog.Version{Number: 2, Status: catalog.StatusReady, Prepared: &catalog.PreparedArtifact{Digest: "sha256:b"}}
	creating := catalog.Version{Number: 3, Status: catalog.StatusCreating}
	failed := catalog.Version{Number: 4, Status: catalog.StatusCreateFailed, FailureReason: "x"}
	tests := []struct {
		name     string
		keep     map[string]bool
		versions []catalog.Version
		want     map[string]bool
	}{
		{"nil set is allocated", nil, []catalog.Version{a}, map[string]bool{"sha256:a": true}},
		{"unprepared versions add nothing", nil, []catalog.Version{creating, failed}, map[string]bool{}},
		{"adds to an existing set", map[string]bool{"sha256:z": true}, []catalog.Version{a, b, creating},
			map[string]bool{"sha256:z": true, "sha256:a": true, "sha256:b": true}},
		{"shared digest once", nil, []catalog.Version{a, {Number: 9, Prepared: &catalog.PreparedArtifact{Digest: "sha256:a"}}},
			map[string]bool{"sha256:a": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, image.KeepVersions(tt.keep, tt.versions...)); diff != "" {
				t.Errorf("KeepVersions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeepVersions_GC checks that the set KeepVersions builds is the one GC understands:
// the trees of listed versions survive, others go.
func TestKeepVersions_GC(t *testing.T) {
	objs := newObjects(t)
	putObject(t, objs, "a.zip", makeZip(t, zipEntry{name: "main.py", body: "a"}))
	putObject(t, objs, "b.zip", makeZip(t, zipEntry{name: "main.py", body: "b"}))
	p, err := image.New(t.TempDir(), objs, nil, image.Options{GCGrace: 1}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	pa, err := p.Prepare(t.Context(), codeArtifact("a.zip"))
	if err != nil {
		t.Fatal(err)
	}
	pb, err := p.Prepare(t.Context(), codeArtifact("b.zip"))
	if err != nil {
		t.Fatal(err)
	}
	versions := []catalog.Version{
		{Number: 1, Status: catalog.StatusReady, Prepared: &pa},
		{Number: 2, Status: catalog.StatusUpdating},
	}
	removed, err := p.GC(t.Context(), image.KeepVersions(nil, versions...))
	if err != nil || removed != 1 {
		t.Fatalf("GC = %d, %v; want 1 removed", removed, err)
	}
	if _, err := os.Stat(pa.Path); err != nil {
		t.Errorf("tree of a listed version is gone: %v", err)
	}
	if _, err := os.Stat(pb.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tree no version lists is still there: %v", err)
	}
}
