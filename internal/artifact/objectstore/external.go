package objectstore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/artifact"
	"berth.dev/berth/internal/errdefs"
)

// ExternalConfig names an external S3-compatible endpoint and which buckets live there.
type ExternalConfig struct {
	// Endpoint is the endpoint URL ("https://minio.example:9000"); empty means AWS S3's
	// regional endpoint.
	Endpoint string
	// Region signs requests (DefaultRegion when empty).
	Region string
	// AccessKeyID and SecretAccessKey (and SessionToken, if any) are static credentials;
	// an empty AccessKeyID sends anonymous, unsigned requests.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// PathStyle addresses buckets as endpoint/bucket rather than bucket.endpoint.
	PathStyle bool
	// Buckets lists the buckets that resolve here; empty means every bucket.
	Buckets []string
	// HTTPClient is used for requests when set (custom TLS roots, proxies).
	HTTPClient *http.Client
}

// External opens objects from an external S3-compatible endpoint with the AWS SDK.
type External struct {
	client  *s3.Client
	buckets map[string]bool // nil: every bucket
}

var _ artifact.ObjectSource = (*External)(nil)

// NewExternal returns a source for cfg. It does not contact the endpoint.
func NewExternal(cfg ExternalConfig) (*External, error) {
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("new external object source: endpoint %q: %w", cfg.Endpoint, errdefs.ErrInvalidArgument)
		}
	}
	if cfg.AccessKeyID == "" && cfg.SecretAccessKey != "" {
		return nil, fmt.Errorf("new external object source: secret access key without an access key id: %w", errdefs.ErrInvalidArgument)
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	opts := s3.Options{
		Region:       region,
		UsePathStyle: cfg.PathStyle,
		Credentials:  aws.AnonymousCredentials{},
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.AccessKeyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	e := &External{client: s3.New(opts)}
	for _, b := range cfg.Buckets {
		if err := validateBucketName(b); err != nil {
			return nil, fmt.Errorf("new external object source: %w", err)
		}
		if e.buckets == nil {
			e.buckets = map[string]bool{}
		}
		e.buckets[b] = true
	}
	return e, nil
}

// Handles reports whether bucket resolves against this endpoint.
func (e *External) Handles(bucket string) bool { return e.buckets == nil || e.buckets[bucket] }

// OpenObject fetches bucket/key (one version if versionID is set). Digest is known when the
// endpoint reports a full-object SHA-256 checksum.
func (e *External) OpenObject(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, artifact.ObjectInfo, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := e.client.GetObject(ctx, in)
	if err != nil {
		return nil, artifact.ObjectInfo{}, fmt.Errorf("open external object %s/%s: %w", bucket, key, classifyS3Error(err))
	}
	info := artifact.ObjectInfo{
		Size:      aws.ToInt64(out.ContentLength),
		ETag:      aws.ToString(out.ETag),
		VersionID: aws.ToString(out.VersionId),
	}
	if sum := aws.ToString(out.ChecksumSHA256); sum != "" && !strings.Contains(sum, "-") {
		if b, err := base64.StdEncoding.DecodeString(sum); err == nil && len(b) == 32 {
			info.Digest = digestPrefix + hex.EncodeToString(b)
		}
	}
	return out.Body, info, nil
}

// classifyS3Error wraps an SDK error with the errdefs kind that describes it.
func classifyS3Error(err error) error {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NotFound":
			return fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			return fmt.Errorf("%w: %w", errdefs.ErrPermissionDenied, err)
		case "InvalidArgument", "InvalidBucketName", "KeyTooLongError":
			return fmt.Errorf("%w: %w", errdefs.ErrInvalidArgument, err)
		}
	}
	if re, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)
		case http.StatusForbidden, http.StatusUnauthorized:
			return fmt.Errorf("%w: %w", errdefs.ErrPermissionDenied, err)
		}
	}
	return fmt.Errorf("%w: %w", errdefs.ErrUnavailable, err)
}

// Router opens the buckets its External handles there and every other bucket from the
// built-in store.
type Router struct {
	builtin  artifact.ObjectSource
	external *External
}

var _ artifact.ObjectSource = (*Router)(nil)

// NewRouter returns a Router; a nil external sends every bucket to builtin.
func NewRouter(builtin artifact.ObjectSource, external *External) *Router {
	return &Router{builtin: builtin, external: external}
}

// OpenObject opens the object from the source its bucket resolves to.
func (r *Router) OpenObject(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, artifact.ObjectInfo, error) {
	if r.external != nil && r.external.Handles(bucket) {
		return r.external.OpenObject(ctx, bucket, key, versionID)
	}
	return r.builtin.OpenObject(ctx, bucket, key, versionID)
}
