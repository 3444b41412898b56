// Package catalog is Berth's domain model of agent runtimes: a Runtime, its immutable
// Versions (each a full RuntimeConfig snapshot plus the prepared artifact), and its
// Endpoints (DEFAULT follows the latest version; custom endpoints are pinned). It also owns
// identifiers, ARNs and the validation rules of AGENTCORE-WIRE.md §3.2.
//
// catalog has no I/O: persistence is internal/store, preparation is internal/image, and
// create/update/delete orchestration is internal/control.
package catalog

import "time"

// Status is the lifecycle state shared by runtimes, versions and endpoints.
type Status string

// Statuses, as AgentRuntimeStatus spells them.
const (
	StatusCreating     Status = "CREATING"
	StatusCreateFailed Status = "CREATE_FAILED"
	StatusUpdating     Status = "UPDATING"
	StatusUpdateFailed Status = "UPDATE_FAILED"
	StatusReady        Status = "READY"
	StatusDeleting     Status = "DELETING"
	StatusDeleteFailed Status = "DELETE_FAILED"
)

// Pending reports whether the status is a transitional one that a worker must finish.
func (s Status) Pending() bool { return s == StatusCreating || s == StatusUpdating }

// DefaultEndpoint is the endpoint every runtime has; it follows the latest version.
const DefaultEndpoint = "DEFAULT"

// Runtime is the mutable head of an agent runtime. Its configuration lives in Versions.
type Runtime struct {
	ID            string            // {name}-{10 alphanumerics}
	Name          string            // unique per account
	LatestVersion int               // the newest version number, ≥ 1
	Tags          map[string]string // as given on create
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Version is one immutable snapshot of a runtime's configuration. Only Status,
// FailureReason, Prepared and UpdatedAt change after it is written, and only once, when the
// artifact has been prepared (or failed to be).
type Version struct {
	RuntimeID     string
	Number        int // 1…99999
	Config        RuntimeConfig
	Status        Status // CREATING or UPDATING until prepared, then READY or *_FAILED
	FailureReason string
	Prepared      *PreparedArtifact // set once READY
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ArtifactKind says how a prepared artifact is run.
type ArtifactKind string

// Artifact kinds.
const (
	ArtifactCode  ArtifactKind = "code"  // an extracted code zip on a managed runtime
	ArtifactImage ArtifactKind = "image" // an OCI image, pinned by digest
)

// PreparedArtifact records what preparation produced: content-addressed, so versions with
// the same input share it.
type PreparedArtifact struct {
	Kind   ArtifactKind `json:"kind"`
	Digest string       `json:"digest"`         // sha256:… of the zip, or the image manifest digest
	Ref    string       `json:"ref,omitempty"`  // image: the reference pinned by digest (repo@sha256:…)
	Path   string       `json:"path,omitempty"` // the prepared tree on this host (code dir or rootfs)
	Size   int64        `json:"size,omitempty"` // bytes of the source artifact
}

// Endpoint routes traffic to a version. LiveVersion is what invocations use now;
// TargetVersion is what it is moving to. They are equal when Status is READY.
type Endpoint struct {
	RuntimeID     string
	Name          string
	ID            string // {name}-{10 alphanumerics}
	LiveVersion   int    // 0 while no version has become READY
	TargetVersion int
	Description   *string
	Status        Status
	FailureReason string
	Tags          map[string]string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}
