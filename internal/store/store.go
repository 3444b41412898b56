// Package store defines Berth's persistence seam: one interface per aggregate, reached through
// a transaction. sqlite/ is the embedded default; a Postgres store will implement the same
// interfaces, and storetest/ is the conformance suite both must pass.
//
// Contract for every implementation:
//   - Store.Update runs fn in one transaction and returns only after the commit is durable
//     (SQLite: WAL with synchronous=FULL). If fn returns an error, nothing fn wrote is visible.
//   - Store.View runs fn in a read-only transaction with a consistent snapshot.
//   - A missing row is an error wrapping errdefs.ErrNotFound; a uniqueness violation is an
//     error wrapping errdefs.ErrConflict. Other errors are infrastructure failures.
//   - Tx values must not be used after fn returns, nor from other goroutines.
//   - Times are stored with at least millisecond precision and returned in UTC.
//   - A list limit of zero or less means no limit.
//   - Inserting a child whose parent is missing (a version of an unknown runtime, an object in
//     an unknown bucket) is ErrNotFound; so are ListObjects and DeleteObject on an unknown
//     bucket. Session records are the exception: they reference no parent, so session
//     history outlives a deleted runtime.
//   - Endpoint IDs are unique across all runtimes.
//   - Keys and names sort as bytes (Postgres needs COLLATE "C" for that).
package store

import (
	"context"
	"encoding/json"
	"time"

	"berth.dev/berth/internal/catalog"
)

// Store is a transactional database.
type Store interface {
	// Update runs fn in a read-write transaction, durable on a nil return.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the database.
	Close() error
}

// Tx exposes every aggregate inside one transaction.
type Tx interface {
	Runtimes() Runtimes
	Idempotency() Idempotency
	AccessKeys() AccessKeys
	Objects() Objects
	Registry() Registry
	Sessions() Sessions
	Usage() Usage
}

// Runtimes stores runtimes, their versions and their endpoints.
type Runtimes interface {
	// CreateRuntime inserts a runtime; a duplicate id or name is ErrConflict.
	CreateRuntime(ctx context.Context, rt catalog.Runtime) error
	// GetRuntime returns the runtime with that id, or ErrNotFound.
	GetRuntime(ctx context.Context, id string) (catalog.Runtime, error)
	// UpdateRuntime replaces the mutable fields (LatestVersion, Tags, UpdatedAt) or ErrNotFound.
	UpdateRuntime(ctx context.Context, rt catalog.Runtime) error
	// DeleteRuntime removes the runtime with all its versions and endpoints, or ErrNotFound.
	DeleteRuntime(ctx context.Context, id string) error
	// ListRuntimes returns up to limit runtimes with ID > afterID, ordered by ID.
	ListRuntimes(ctx context.Context, afterID string, limit int) ([]catalog.Runtime, error)

	// CreateVersion inserts a version; a duplicate (RuntimeID, Number) is ErrConflict.
	CreateVersion(ctx context.Context, v catalog.Version) error
	// GetVersion returns one version or ErrNotFound.
	GetVersion(ctx context.Context, runtimeID string, number int) (catalog.Version, error)
	// UpdateVersion replaces Status, FailureReason, Prepared and UpdatedAt, or ErrNotFound.
	UpdateVersion(ctx context.Context, v catalog.Version) error
	// DeleteVersion removes one version, or ErrNotFound.
	DeleteVersion(ctx context.Context, runtimeID string, number int) error
	// ListVersions returns up to limit versions of a runtime with Number < before (0 means no
	// bound), newest first.
	ListVersions(ctx context.Context, runtimeID string, before, limit int) ([]catalog.Version, error)
	// PendingVersions returns every version whose status is CREATING or UPDATING, oldest first.
	PendingVersions(ctx context.Context) ([]catalog.Version, error)

	// CreateEndpoint inserts an endpoint; a duplicate (RuntimeID, Name) is ErrConflict.
	CreateEndpoint(ctx context.Context, e catalog.Endpoint) error
	// GetEndpoint returns one endpoint or ErrNotFound.
	GetEndpoint(ctx context.Context, runtimeID, name string) (catalog.Endpoint, error)
	// UpdateEndpoint replaces every mutable field of the endpoint, or ErrNotFound.
	UpdateEndpoint(ctx context.Context, e catalog.Endpoint) error
	// DeleteEndpoint removes one endpoint, or ErrNotFound.
	DeleteEndpoint(ctx context.Context, runtimeID, name string) error
	// ListEndpoints returns up to limit endpoints of a runtime with Name > afterName, by Name.
	ListEndpoints(ctx context.Context, runtimeID, afterName string, limit int) ([]catalog.Endpoint, error)
}

// IdempotencyRecord remembers the answer to a request made with a clientToken.
type IdempotencyRecord struct {
	Scope       string // operation plus the resource it acted on, e.g. "CreateAgentRuntime"
	Token       string
	RequestHash string // sha256 of the canonical request parameters
	StatusCode  int
	Body        []byte // the response body sent
	CreatedAt   time.Time
}

// Idempotency stores clientToken answers.
type Idempotency interface {
	// GetIdempotency returns the record for (scope, token) or ErrNotFound.
	GetIdempotency(ctx context.Context, scope, token string) (IdempotencyRecord, error)
	// PutIdempotency inserts a record; an existing (scope, token) is ErrConflict.
	PutIdempotency(ctx context.Context, r IdempotencyRecord) error
	// DeleteIdempotencyBefore removes records created before t and returns how many.
	DeleteIdempotencyBefore(ctx context.Context, t time.Time) (int, error)
}

// AccessKey is an inbound SigV4 credential. The secret is stored encrypted.
type AccessKey struct {
	ID              string // AKIA… style access key id
	SecretEncrypted []byte // sealed by internal/secret; never the plaintext
	Account         string // the account the key acts for
	Description     string
	Disabled        bool
	CreatedAt       time.Time
}

// AccessKeys stores inbound credentials.
type AccessKeys interface {
	// CreateAccessKey inserts a key; a duplicate ID is ErrConflict.
	CreateAccessKey(ctx context.Context, k AccessKey) error
	// GetAccessKey returns the key or ErrNotFound.
	GetAccessKey(ctx context.Context, id string) (AccessKey, error)
	// ListAccessKeys returns every key ordered by CreatedAt.
	ListAccessKeys(ctx context.Context) ([]AccessKey, error)
	// UpdateAccessKey replaces Description and Disabled, or ErrNotFound.
	UpdateAccessKey(ctx context.Context, k AccessKey) error
}

// Bucket is a bucket of the built-in object store.
type Bucket struct {
	Name      string
	CreatedAt time.Time
}

// Object is the metadata of one object version; the bytes live in a content-addressed file
// named by Digest.
type Object struct {
	Bucket      string
	Key         string
	VersionID   string // unique per (Bucket, Key)
	Digest      string // "sha256:<hex>" of the content
	Size        int64
	ETag        string // quoted MD5 hex, as S3 reports it
	ContentType string
	Metadata    map[string]string // x-amz-meta-* without the prefix, lower-case keys
	CreatedAt   time.Time
}

// Objects stores buckets and object metadata. Every PutObject adds a new version and makes it
// the current one; GetObject with an empty versionID returns the current version.
type Objects interface {
	// CreateBucket inserts a bucket; an existing name is ErrConflict.
	CreateBucket(ctx context.Context, b Bucket) error
	// GetBucket returns the bucket or ErrNotFound.
	GetBucket(ctx context.Context, name string) (Bucket, error)
	// ListBuckets returns all buckets by name.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// DeleteBucket removes an empty bucket; ErrNotFound if missing, ErrConflict if not empty.
	DeleteBucket(ctx context.Context, name string) error
	// PutObject records a new current version of (Bucket, Key). The bucket must exist
	// (ErrNotFound otherwise).
	PutObject(ctx context.Context, o Object) error
	// GetObject returns the current version (versionID "") or that version, or ErrNotFound.
	GetObject(ctx context.Context, bucket, key, versionID string) (Object, error)
	// DeleteObject removes every version of (bucket, key); deleting a missing key is not an
	// error (S3 semantics). It returns the digests that were referenced.
	DeleteObject(ctx context.Context, bucket, key string) ([]string, error)
	// ListObjects returns up to limit current objects of a bucket whose key starts with prefix
	// and sorts after startAfter, ordered by key.
	ListObjects(ctx context.Context, bucket, prefix, startAfter string, limit int) ([]Object, error)
	// DigestReferenced reports whether any object version still references digest.
	DigestReferenced(ctx context.Context, digest string) (bool, error)
}

// Manifest is a manifest stored in the built-in OCI registry; the bytes live in the blob
// store under Digest.
type Manifest struct {
	Repository string
	Digest     string // sha256:…
	MediaType  string
	Size       int64
	CreatedAt  time.Time
}

// Registry stores the built-in registry's manifests and tags.
type Registry interface {
	// PutManifest records that repository holds the manifest (idempotent on an existing pair).
	PutManifest(ctx context.Context, m Manifest) error
	// GetManifest returns the manifest of repository with that digest, or ErrNotFound.
	GetManifest(ctx context.Context, repository, digest string) (Manifest, error)
	// DeleteManifest removes the manifest and every tag pointing at it, or ErrNotFound.
	DeleteManifest(ctx context.Context, repository, digest string) error
	// PutTag points repository:tag at digest, replacing an earlier target.
	PutTag(ctx context.Context, repository, tag, digest string) error
	// GetTag returns the digest repository:tag points at, or ErrNotFound.
	GetTag(ctx context.Context, repository, tag string) (string, error)
	// ListTags returns the tags of repository, sorted; ErrNotFound if it has no manifests.
	ListTags(ctx context.Context, repository string) ([]string, error)
	// ListRepositories returns every repository with at least one manifest, sorted.
	ListRepositories(ctx context.Context) ([]string, error)
}

// Session states.
const (
	SessionStarting    = "starting"
	SessionActive      = "active"
	SessionIdle        = "idle"
	SessionTerminating = "terminating"
	SessionTerminated  = "terminated"
)

// SessionRecord is the durable record of one runtime session: one sandbox from start to end.
// A session id used again after its session ended gets a new record.
type SessionRecord struct {
	ID              string // UUIDv7: unique, and sorts by start time
	RuntimeID       string
	Endpoint        string // endpoint name (qualifier)
	SessionID       string // the caller's runtime session id
	Version         int    // pinned when the session started
	State           string // one of the Session* states
	EndReason       string // why it ended (idle_timeout, max_lifetime, stopped, …); "" while live
	Driver          string // sandbox driver name
	SandboxID       string
	SandboxState    json.RawMessage // sandbox.State(), for reclaiming after a crash
	CPUTime         time.Duration   // usage so far
	MemoryPeakBytes int64
	StartedAt       time.Time
	LastActivityAt  time.Time
	EndedAt         time.Time // zero while live
}

// SessionFilter narrows ListSessions; zero fields match everything.
type SessionFilter struct {
	RuntimeID string
	SessionID string
	LiveOnly  bool // only records whose State is not terminated
}

// Sessions stores session records.
type Sessions interface {
	// CreateSession inserts a record; a duplicate ID is ErrConflict.
	CreateSession(ctx context.Context, s SessionRecord) error
	// GetSession returns the record with that ID or ErrNotFound.
	GetSession(ctx context.Context, id string) (SessionRecord, error)
	// UpdateSession replaces every mutable field (State, EndReason, SandboxID, SandboxState,
	// CPUTime, MemoryPeakBytes, LastActivityAt, EndedAt), or ErrNotFound.
	UpdateSession(ctx context.Context, s SessionRecord) error
	// ListSessions returns up to limit records matching f with ID < beforeID ("" for no
	// bound), newest first.
	ListSessions(ctx context.Context, f SessionFilter, beforeID string, limit int) ([]SessionRecord, error)

	// PutPooledSandbox inserts the record of a pooled sandbox, or replaces the one with its ID.
	PutPooledSandbox(ctx context.Context, p PooledSandbox) error
	// DeletePooledSandbox removes the pooled sandbox record with that ID, or ErrNotFound.
	DeletePooledSandbox(ctx context.Context, id string) error
	// ListPooledSandboxes returns every pooled sandbox record, oldest first (by CreatedAt,
	// then ID).
	ListPooledSandboxes(ctx context.Context) ([]PooledSandbox, error)
}

// PooledSandbox records a sandbox the session manager started ahead of demand (a warm pool)
// and has not handed to a session yet, so that a restart after a crash can reclaim it. When
// a session takes the sandbox, its record is deleted in the transaction that creates the
// session's SessionRecord. Like a session record it references no parent: the session
// manager, not the store, removes it when its runtime goes.
type PooledSandbox struct {
	ID           string // the sandbox id (sandbox.Spec.ID)
	RuntimeID    string
	Endpoint     string
	Version      int
	Driver       string          // sandbox driver name
	SandboxState json.RawMessage // sandbox.State(); nil until the sandbox has started (empty reads as nil)
	CreatedAt    time.Time
}

// UsageRecord is the billable usage of one session (one SessionRecord) in one UTC minute,
// as internal/metering computes it. A record is written whole, so writing it again replaces
// it: a retried or repeated flush never counts twice.
type UsageRecord struct {
	RecordID        string    // the session's SessionRecord.ID
	Minute          time.Time // start of the minute, UTC, whole minute
	RuntimeID       string
	Endpoint        string
	SessionID       string  // the caller's runtime session id
	Seconds         float64 // billed seconds of session life in this minute
	VCPUSeconds     float64 // billed CPU time
	GBSeconds       float64 // billed memory: GiB × seconds
	MemoryPeakBytes int64   // peak memory of the session up to the end of this minute
}

// UsageGroup is a dimension usage totals can be grouped by.
type UsageGroup string

// Usage dimensions. The period groups (minute, hour, day) bucket by UTC time.
const (
	UsageByRuntime  UsageGroup = "runtime"
	UsageByEndpoint UsageGroup = "endpoint"
	UsageBySession  UsageGroup = "session"
	UsageByMinute   UsageGroup = "minute"
	UsageByHour     UsageGroup = "hour"
	UsageByDay      UsageGroup = "day"
)

// UsageFilter narrows SumUsage; zero fields match everything. From and To bound the
// records' Minute: From <= Minute < To.
type UsageFilter struct {
	RuntimeID string
	Endpoint  string
	SessionID string
	From, To  time.Time
}

// UsageTotal is the sum of the usage records of one group. Only the fields of the grouped
// dimensions are set (Period for minute, hour or day).
type UsageTotal struct {
	RuntimeID   string
	Endpoint    string
	SessionID   string
	Period      time.Time
	Sessions    int // distinct session records
	Seconds     float64
	VCPUSeconds float64
	GBSeconds   float64
}

// Usage stores per-minute usage records.
type Usage interface {
	// PutUsage inserts the record, or replaces the one with its (RecordID, Minute).
	PutUsage(ctx context.Context, r UsageRecord) error
	// SumUsage adds up the records matching f, one total per distinct combination of the
	// by dimensions (one total overall when by is empty, even with no records), ordered by
	// those dimensions in the order given.
	SumUsage(ctx context.Context, f UsageFilter, by []UsageGroup) ([]UsageTotal, error)
}
