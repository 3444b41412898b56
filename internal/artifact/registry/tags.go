package registry

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// tags answers GET /v2/<name>/tags/list, paginated with ?n= and ?last=.
func (r *Registry) tags(w http.ResponseWriter, req *http.Request, name string) error {
	var tags []string
	err := r.st.View(req.Context(), func(tx store.Tx) error {
		t, err := tx.Registry().ListTags(req.Context(), name)
		tags = t
		return err
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return newError(http.StatusNotFound, codeNameUnknown, "repository %s is unknown to registry", name)
	}
	if err != nil {
		return internalError("list tags", err)
	}
	page, next, err := paginate(tags, req.URL.Query())
	if err != nil {
		return err
	}
	if next != "" {
		setNextLink(w, "/v2/"+name+"/tags/list", len(page), next)
	}
	return writeJSON(w, struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{name, page})
}

// catalog answers GET /v2/_catalog, paginated with ?n= and ?last=.
func (r *Registry) catalog(w http.ResponseWriter, req *http.Request) error {
	var repos []string
	err := r.st.View(req.Context(), func(tx store.Tx) error {
		rs, err := tx.Registry().ListRepositories(req.Context())
		repos = rs
		return err
	})
	if err != nil {
		return internalError("list repositories", err)
	}
	page, next, err := paginate(repos, req.URL.Query())
	if err != nil {
		return err
	}
	if next != "" {
		setNextLink(w, "/v2/_catalog", len(page), next)
	}
	return writeJSON(w, struct {
		Repositories []string `json:"repositories"`
	}{page})
}

// paginate returns the names after ?last=, at most ?n= of them, and the last name returned
// when more follow.
func paginate(names []string, q url.Values) (page []string, next string, err error) {
	sort.Strings(names)
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(names, last)
		if i < len(names) && names[i] == last {
			i++
		}
		names = names[i:]
	}
	page = names
	if ns := q.Get("n"); ns != "" {
		n, perr := strconv.Atoi(ns)
		if perr != nil || n < 0 {
			return nil, "", newError(http.StatusBadRequest, codeUnsupported, "invalid page size n=%q", ns)
		}
		if n < len(names) {
			page = names[:n]
			if n > 0 {
				next = page[n-1]
			}
		}
	}
	if page == nil {
		page = []string{}
	}
	return page, next, nil
}

func setNextLink(w http.ResponseWriter, path string, n int, last string) {
	q := url.Values{"n": {strconv.Itoa(n)}, "last": {last}}
	w.Header().Set("Link", "<"+path+"?"+q.Encode()+`>; rel="next"`)
}

func writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return internalError("encode response", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may be gone
	return nil
}
