// Package registry is Berth's built-in OCI distribution registry, served at /v2/, so images
// can be pushed with standard OCI tools (crane, oras, skopeo, docker) and no Docker daemon.
//
// Blobs (layers, configs and the manifests themselves) are content-addressed files under the
// data directory, written as temp file + fsync + rename; uploads in progress live under an
// uploads directory and survive restarts. Which manifests a repository holds and what its
// tags point at is kept in store.Registry. Blobs are shared by every repository: the
// registry serves one account, so a blob pushed to one repository can be mounted into any
// other.
//
// Every request must carry HTTP basic credentials (an access key id and its secret), checked
// by a BasicAuthenticator; an anonymous request gets 401 with a Basic challenge, which is
// what `docker login` and crane expect.
//
// Besides HTTP, Resolve, Image and Index give network-free read access to stored images, so
// preparing an image that lives in Berth's own registry never goes over the network.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"

	"berth.dev/berth/internal/store"
)

// BasicAuthenticator checks the HTTP basic credentials of a registry request.
type BasicAuthenticator interface {
	// CheckBasic returns nil if secret is the secret of the enabled access key id, else an
	// error (the request is then answered 401).
	CheckBasic(ctx context.Context, id, secret string) error
}

// Registry is the built-in OCI registry. It is safe for concurrent use.
type Registry struct {
	st      store.Store
	blobs   *blobStore
	uploads *uploadStore
	logger  *slog.Logger
	auth    BasicAuthenticator
}

// realm is the basic-auth realm announced in WWW-Authenticate.
const realm = "berth"

// New opens the registry whose files live under dir (created if missing) and whose metadata
// lives in st. auth is required: every request is authenticated.
func New(st store.Store, dir string, logger *slog.Logger, auth BasicAuthenticator) (*Registry, error) {
	if st == nil || auth == nil || logger == nil {
		return nil, fmt.Errorf("new registry: store, logger and authenticator are required: %w", errInvalidConfig)
	}
	uploadsDir := filepath.Join(dir, "uploads")
	blobs, err := newBlobStore(filepath.Join(dir, "blobs"), uploadsDir)
	if err != nil {
		return nil, fmt.Errorf("new registry: %w", err)
	}
	uploads, err := newUploadStore(uploadsDir, logger)
	if err != nil {
		return nil, fmt.Errorf("new registry: %w", err)
	}
	return &Registry{st: st, blobs: blobs, uploads: uploads, logger: logger, auth: auth}, nil
}

var errInvalidConfig = errors.New("invalid registry configuration")

// Handler serves the distribution API. Mount it at the server root for paths under /v2/.
func (r *Registry) Handler() http.Handler { return http.HandlerFunc(r.serveHTTP) }

func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	err := r.authenticate(req)
	if err == nil {
		err = r.route(w, req)
	}
	if err == nil {
		return
	}
	var re *regError
	if !errors.As(err, &re) {
		re = internalError("request", err)
	}
	if re.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
	}
	level := slog.LevelDebug
	if re.status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	r.logger.Log(req.Context(), level, "registry request failed",
		"method", req.Method, "path", req.URL.Path, "status", re.status, "code", re.code, "error", err)
	re.write(w)
}

// authenticate requires HTTP basic credentials that the authenticator accepts.
func (r *Registry) authenticate(req *http.Request) error {
	id, secret, ok := req.BasicAuth()
	if !ok {
		return errUnauthorized
	}
	if err := r.auth.CheckBasic(req.Context(), id, secret); err != nil {
		r.logger.InfoContext(req.Context(), "registry credentials rejected",
			"access_key_id", id, "error", err)
		return errUnauthorized
	}
	return nil
}

// route dispatches on the path, read from its end because names have several components:
// /v2/, /v2/_catalog, /v2/<name>/tags/list, /v2/<name>/manifests/<ref>,
// /v2/<name>/blobs/<digest>, /v2/<name>/blobs/uploads/[<id>].
func (r *Registry) route(w http.ResponseWriter, req *http.Request) error {
	p := req.URL.Path
	if p == "/v2" || p == "/v2/" {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return errMethod
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		if req.Method == http.MethodGet {
			_, _ = w.Write([]byte("{}"))
		}
		return nil
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return errNoRoute
	}
	if rest == "_catalog" {
		return r.onlyGet(req, func() error { return r.catalog(w, req) })
	}
	el := strings.Split(rest, "/")
	n := len(el)
	switch {
	case n >= 4 && el[n-3] == "blobs" && el[n-2] == "uploads":
		name, id := strings.Join(el[:n-3], "/"), el[n-1]
		if err := checkName(name); err != nil {
			return err
		}
		if id == "" {
			if req.Method != http.MethodPost {
				return errMethod
			}
			return r.startUpload(w, req, name)
		}
		return r.upload(w, req, name, id)
	case n >= 3 && el[n-2] == "blobs":
		name, target := strings.Join(el[:n-2], "/"), el[n-1]
		if err := checkName(name); err != nil {
			return err
		}
		switch {
		case target == "uploads" && req.Method == http.MethodPost:
			return r.startUpload(w, req, name)
		case req.Method == http.MethodGet || req.Method == http.MethodHead:
			return r.serveBlob(w, req, target)
		case req.Method == http.MethodDelete:
			return newError(http.StatusMethodNotAllowed, codeUnsupported, "blob deletion is not supported")
		}
		return errMethod
	case n >= 3 && el[n-2] == "manifests":
		name, ref := strings.Join(el[:n-2], "/"), el[n-1]
		if err := checkName(name); err != nil {
			return err
		}
		return r.manifest(w, req, name, ref)
	case n >= 3 && el[n-2] == "tags" && el[n-1] == "list":
		name := strings.Join(el[:n-2], "/")
		if err := checkName(name); err != nil {
			return err
		}
		return r.onlyGet(req, func() error { return r.tags(w, req, name) })
	}
	return errNoRoute
}

func (r *Registry) onlyGet(req *http.Request, fn func() error) error {
	if req.Method != http.MethodGet {
		return errMethod
	}
	return fn()
}

var (
	errMethod  = newError(http.StatusMethodNotAllowed, codeUnsupported, "method not supported on this path")
	errNoRoute = newError(http.StatusNotFound, codeUnsupported, "no such registry API path")
)

// nameRE is the repository name grammar of the distribution specification.
var nameRE = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)

// tagRE is the tag grammar of the distribution specification.
var tagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

func checkName(name string) error {
	if len(name) > 255 || !nameRE.MatchString(name) {
		return newError(http.StatusBadRequest, codeNameInvalid, "invalid repository name %q", name)
	}
	return nil
}
