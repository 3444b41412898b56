package objectstore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// Authenticator verifies a request before it reaches storage. It returns the request to
// serve (its context may carry the principal) or an error that Options.MapAuthError turns
// into the S3 answer. An error that the returned request's Body yields while it is read and
// that matches errdefs.ErrUnauthenticated (a payload or chunk signature that does not match)
// is answered through MapAuthError too, and nothing is stored.
//
// The S3 API is signed with SigV4 for service "s3": the canonical URI is the escaped path as
// sent (S3 does not double-encode it) and the payload hash is X-Amz-Content-Sha256 as
// declared. The handler checks a hex payload hash against the body itself. For the
// aws-chunked streaming modes the Authenticator must decode the body, as internal/auth's
// SigV4 does: return a Body of the plain object bytes (having verified the chunk and trailer
// signatures), "aws-chunked" removed from Content-Encoding and the trailers in
// Request.Trailer at EOF. The handler does not decode aws-chunked itself: a streaming body
// whose Content-Encoding still lists aws-chunked is refused with NotImplemented.
type Authenticator interface {
	Authenticate(r *http.Request) (*http.Request, error)
}

// Handler returns the S3 REST API (path-style) under Options.PathPrefix. Every request is
// authenticated by authn before anything else happens.
//
// Mount it for the whole prefix without path cleaning: http.ServeMux redirects paths that
// contain "..", "." or "//" segments, which are legal in object keys. Route requests whose
// URL.Path is PathPrefix or starts with PathPrefix+"/" to this handler before the mux.
func (s *Store) Handler(authn Authenticator) http.Handler {
	return &handler{s: s, authn: authn, log: s.log.With("component", "s3")}
}

type handler struct {
	s     *Store
	authn Authenticator
	log   *slog.Logger
}

// target is what a request's path names.
type target struct {
	bucket string
	key    string
	// resource is the decoded "/bucket/key" path, as S3 reports it in errors.
	resource string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Amz-Request-Id", reqID)
	w.Header().Set("X-Amz-Id-2", reqID)
	w.Header().Set("Server", "Berth")

	t, perr := h.parse(r)
	ar, err := h.authn.Authenticate(r)
	if err != nil {
		h.log.DebugContext(r.Context(), "authentication failed", "request_id", reqID, "error", err)
		h.writeError(w, r, t.resource, reqID, h.authError(err))
		return
	}
	if ar != nil {
		r = ar
	}
	if perr == nil {
		err = h.route(w, r, t)
	} else {
		err = perr
	}
	if err == nil {
		return
	}
	ae, clientFault := h.toAPIError(err)
	if clientFault {
		h.log.DebugContext(r.Context(), "s3 request refused", "request_id", reqID, "code", ae.code, "error", err)
	} else {
		h.log.ErrorContext(r.Context(), "s3 request failed", "request_id", reqID,
			"method", r.Method, "resource", t.resource, "error", err)
	}
	h.writeError(w, r, t.resource, reqID, ae)
}

// parse splits the escaped path into bucket and key and unescapes each, so that an encoded
// "/" (or "%2F" itself) inside a key survives.
func (h *handler) parse(r *http.Request) (target, error) {
	p := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(p, h.s.opts.PathPrefix)
	if !ok || rest != "" && rest[0] != '/' {
		return target{resource: p}, errInvalidArgument("The path is not under %s.", h.s.opts.PathPrefix)
	}
	rest = strings.TrimPrefix(rest, "/")
	rawBucket, rawKey, _ := strings.Cut(rest, "/")
	bucket, err := url.PathUnescape(rawBucket)
	if err != nil {
		return target{resource: p}, errInvalidArgument("The path is not a valid URI.")
	}
	key, err := url.PathUnescape(rawKey)
	if err != nil {
		return target{resource: p}, errInvalidArgument("The path is not a valid URI.")
	}
	t := target{bucket: bucket, key: key, resource: "/" + bucket}
	if key != "" {
		t.resource += "/" + key
	}
	return t, nil
}

func (h *handler) route(w http.ResponseWriter, r *http.Request, t target) error {
	q := r.URL.Query()
	if t.bucket == "" {
		if r.Method != http.MethodGet {
			return errMethodNotAllowed()
		}
		if err := onlyParams(q, "max-buckets", "continuation-token", "prefix", "bucket-region"); err != nil {
			return err
		}
		return h.listBuckets(w, r)
	}
	if t.key == "" {
		return h.routeBucket(w, r, t, q)
	}
	return h.routeObject(w, r, t, q)
}

func (h *handler) routeBucket(w http.ResponseWriter, r *http.Request, t target, q url.Values) error {
	switch r.Method {
	case http.MethodPut:
		if err := onlyParams(q); err != nil {
			return err
		}
		return h.createBucket(w, r, t.bucket)
	case http.MethodHead:
		if err := onlyParams(q); err != nil {
			return err
		}
		return h.headBucket(w, r, t.bucket)
	case http.MethodDelete:
		if err := onlyParams(q); err != nil {
			return err
		}
		return h.deleteBucket(w, r, t.bucket)
	case http.MethodGet:
		switch {
		case q.Has("location"):
			if err := onlyParams(q, "location"); err != nil {
				return err
			}
			return h.bucketLocation(w, r, t.bucket)
		case q.Get("list-type") == "2":
			if err := onlyParams(q, "list-type", "prefix", "delimiter", "max-keys", "continuation-token",
				"start-after", "encoding-type", "fetch-owner"); err != nil {
				return err
			}
			return h.listObjectsV2(w, r, t.bucket, q)
		case !q.Has("list-type"):
			if err := onlyParams(q, "prefix", "delimiter", "marker", "max-keys", "encoding-type"); err != nil {
				return err
			}
			return h.listObjectsV1(w, r, t.bucket, q)
		}
		return errInvalidArgument("Unsupported list-type %q.", q.Get("list-type"))
	case http.MethodPost:
		if q.Has("delete") {
			return errNotImplemented("DeleteObjects")
		}
		return errNotImplemented("POST on a bucket")
	}
	return errMethodNotAllowed()
}

func (h *handler) routeObject(w http.ResponseWriter, r *http.Request, t target, q url.Values) error {
	if q.Has("uploads") || q.Has("uploadId") {
		return errNotImplemented("Multipart upload")
	}
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return errNotImplemented("CopyObject")
		}
		if err := onlyParams(q); err != nil {
			return err
		}
		return h.putObject(w, r, t)
	case http.MethodGet, http.MethodHead:
		if err := onlyParams(q, "versionId", "response-content-type", "response-content-language",
			"response-expires", "response-cache-control", "response-content-disposition",
			"response-content-encoding"); err != nil {
			return err
		}
		return h.getObject(w, r, t, q)
	case http.MethodDelete:
		if err := onlyParams(q, "versionId"); err != nil {
			return err
		}
		return h.deleteObject(w, r, t, q)
	case http.MethodPost:
		return errNotImplemented("POST on an object")
	}
	return errMethodNotAllowed()
}

// onlyParams refuses query parameters other than allowed: in S3 they select a subresource
// (acl, tagging, versioning, …) that this store does not implement. The SDK's "x-id" and
// presigned-URL "X-Amz-*" parameters are always allowed.
func onlyParams(q url.Values, allowed ...string) error {
	for k := range q {
		if k == "x-id" || strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			continue
		}
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			return errNotImplemented(fmt.Sprintf("The %q subresource or parameter", k))
		}
	}
	return nil
}

// writeError sends S3's XML error document (no body for HEAD).
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, resource, reqID string, ae *apiError) {
	hdr := w.Header()
	for _, k := range []string{"ETag", "Last-Modified", "Content-Range", "X-Amz-Version-Id", "Accept-Ranges"} {
		hdr.Del(k)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(ae.status)
		return
	}
	body, err := xml.Marshal(errorDocument{Code: ae.code, Message: ae.message, Resource: resource, RequestID: reqID})
	if err != nil {
		h.log.ErrorContext(r.Context(), "marshal s3 error", "error", err)
		w.WriteHeader(ae.status)
		return
	}
	hdr.Set("Content-Type", "application/xml")
	w.WriteHeader(ae.status)
	h.writeBody(w, r, append([]byte(xml.Header), body...))
}

// writeXML sends a 200 response document.
func (h *handler) writeXML(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal response: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	h.writeBody(w, r, append([]byte(xml.Header), body...))
	return nil
}

func (h *handler) writeBody(w http.ResponseWriter, r *http.Request, b []byte) {
	if _, err := w.Write(b); err != nil { // #nosec G705 -- an XML document we marshalled (escaped)
		h.log.DebugContext(r.Context(), "write response", "error", err)
	}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// authError is the S3 answer to an authentication failure.
func (h *handler) authError(err error) *apiError {
	if h.s.opts.MapAuthError != nil {
		status, code, message := h.s.opts.MapAuthError(err)
		return newAPIError(status, code, message, nil)
	}
	return newAPIError(http.StatusForbidden, "AccessDenied", "Access Denied", nil)
}

// toAPIError turns any error into the S3 error to send. The boolean is false for errors
// that are not the client's fault (they are answered as InternalError and logged). An
// authentication failure surfacing while the body is read (a payload or chunk signature
// that does not match) is answered like one found before.
func (h *handler) toAPIError(err error) (*apiError, bool) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		return ae, true
	}
	if errors.Is(err, errdefs.ErrUnauthenticated) {
		return h.authError(err), true
	}
	return toAPIError(err)
}
