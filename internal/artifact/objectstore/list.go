package objectstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"berth.dev/berth/internal/store"
)

// maxListKeys is S3's largest page (and the default max-keys).
const maxListKeys = 1000

// afterAll sorts after every key that continues a prefix (keys are UTF-8), so listing from
// prefix+afterAll skips every key under prefix.
const afterAll = "\U0010FFFF"

// listQuery asks for one page of a bucket's current objects.
type listQuery struct {
	prefix    string
	delimiter string
	after     string // only keys sorting after this
	skip      string // a common prefix already returned; no key under it is listed again
	maxKeys   int
}

// listPage is one page: keys and common prefixes, in key order, at most maxKeys in all.
type listPage struct {
	objects   []store.Object
	prefixes  []string
	truncated bool
	// next resumes the listing after the page's last entry.
	next listQuery
	// last is the page's last key or common prefix (ListObjects' NextMarker).
	last string
}

// list reads one page in a single read transaction, grouping keys that contain the
// delimiter after the prefix into common prefixes.
func (s *Store) list(ctx context.Context, bucket string, q listQuery) (listPage, error) {
	if err := validateBucketName(bucket); err != nil {
		return listPage{}, err
	}
	type entry struct {
		obj    store.Object
		prefix string
	}
	var entries []entry
	err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := getBucket(ctx, tx, bucket); err != nil {
			return err
		}
		want := q.maxKeys + 1 // one more than asked tells whether the page is truncated
		after, skip := q.after, q.skip
		if skip != "" && after < skip+afterAll {
			after = skip + afterAll
		}
		for q.maxKeys > 0 && len(entries) < want {
			limit := want - len(entries)
			batch, err := tx.Objects().ListObjects(ctx, bucket, q.prefix, after, limit)
			if err != nil {
				return err
			}
			jumped := false
			for _, o := range batch {
				after = o.Key
				if skip != "" && strings.HasPrefix(o.Key, skip) {
					continue
				}
				if q.delimiter != "" {
					if i := strings.Index(o.Key[len(q.prefix):], q.delimiter); i >= 0 {
						cp := o.Key[:len(q.prefix)+i+len(q.delimiter)]
						entries = append(entries, entry{prefix: cp})
						skip = cp
						after = max(after, cp+afterAll)
						jumped = true
						break
					}
				}
				entries = append(entries, entry{obj: o})
				if len(entries) == want {
					break
				}
			}
			if !jumped && len(batch) < limit {
				break // the bucket has no more keys
			}
		}
		return nil
	})
	if err != nil {
		return listPage{}, fmt.Errorf("list objects in %s: %w", bucket, err)
	}

	var page listPage
	if len(entries) > q.maxKeys {
		page.truncated = true
		entries = entries[:q.maxKeys]
	}
	for _, e := range entries {
		if e.prefix != "" {
			page.prefixes = append(page.prefixes, e.prefix)
		} else {
			page.objects = append(page.objects, e.obj)
		}
	}
	if n := len(entries); n > 0 {
		next := q
		if p := entries[n-1].prefix; p != "" {
			next.after, next.skip, page.last = p, p, p
		} else {
			next.after, next.skip, page.last = entries[n-1].obj.Key, "", entries[n-1].obj.Key
		}
		page.next = next
	}
	return page, nil
}

// continuationToken is the opaque ListObjectsV2 token.
type continuationToken struct {
	After string `json:"a"`
	Skip  string `json:"s,omitempty"`
}

func encodeToken(q listQuery) string {
	b, _ := json.Marshal(continuationToken{After: q.after, Skip: q.skip}) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (continuationToken, error) {
	var t continuationToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil {
		return t, errInvalidArgument("The continuation token provided is incorrect.")
	}
	return t, nil
}

// commonListParams parses what ListObjects and ListObjectsV2 share.
func commonListParams(q url.Values) (listQuery, bool, error) {
	lq := listQuery{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: maxListKeys}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, false, errInvalidArgument("Provided max-keys not an integer or within integer range.")
		}
		lq.maxKeys = min(n, maxListKeys)
	}
	urlEncode := false
	switch q.Get("encoding-type") {
	case "":
	case "url":
		urlEncode = true
	default:
		return lq, false, errInvalidArgument("Invalid Encoding Method specified in Request.")
	}
	return lq, urlEncode, nil
}

func (h *handler) listObjectsV2(w http.ResponseWriter, r *http.Request, bucket string, q url.Values) error {
	lq, urlEncode, err := commonListParams(q)
	if err != nil {
		return err
	}
	token := q.Get("continuation-token")
	startAfter := q.Get("start-after")
	if token != "" {
		t, err := decodeToken(token)
		if err != nil {
			return err
		}
		lq.after, lq.skip = t.After, t.Skip
	} else {
		lq.after = startAfter
	}
	page, err := h.s.list(r.Context(), bucket, lq)
	if err != nil {
		return err
	}
	enc := encoder(urlEncode)
	keyCount := len(page.objects) + len(page.prefixes)
	res := listResult(bucket, lq, page, urlEncode, q.Get("fetch-owner") == "true")
	res.KeyCount = &keyCount
	res.ContinuationToken = token
	res.StartAfter = enc(startAfter)
	if page.truncated {
		res.NextContinuationToken = encodeToken(page.next)
	}
	return h.writeXML(w, r, res)
}

func (h *handler) listObjectsV1(w http.ResponseWriter, r *http.Request, bucket string, q url.Values) error {
	lq, urlEncode, err := commonListParams(q)
	if err != nil {
		return err
	}
	marker := q.Get("marker")
	lq.after = marker
	// A marker that is a common prefix (a previous NextMarker) skips the keys under it.
	if lq.delimiter != "" && strings.HasPrefix(marker, lq.prefix) {
		rest := marker[len(lq.prefix):]
		if i := strings.Index(rest, lq.delimiter); i >= 0 && i+len(lq.delimiter) == len(rest) {
			lq.skip = marker
		}
	}
	page, err := h.s.list(r.Context(), bucket, lq)
	if err != nil {
		return err
	}
	enc := encoder(urlEncode)
	res := listResult(bucket, lq, page, urlEncode, true)
	m := enc(marker)
	res.Marker = &m
	if page.truncated && lq.delimiter != "" {
		res.NextMarker = enc(page.last)
	}
	return h.writeXML(w, r, res)
}

// listResult renders a page; V1 and V2 add their own members.
func listResult(bucket string, lq listQuery, page listPage, urlEncode, withOwner bool) listBucketResult {
	enc := encoder(urlEncode)
	res := listBucketResult{
		Xmlns:       s3Namespace,
		Name:        bucket,
		Prefix:      enc(lq.prefix),
		Delimiter:   enc(lq.delimiter),
		MaxKeys:     lq.maxKeys,
		IsTruncated: page.truncated,
	}
	if urlEncode {
		res.EncodingType = "url"
	}
	for _, o := range page.objects {
		e := objectEntry{
			Key:          enc(o.Key),
			LastModified: xmlTime(o.CreatedAt),
			ETag:         o.ETag,
			Size:         o.Size,
			StorageClass: "STANDARD",
		}
		if withOwner {
			own := storeOwner
			e.Owner = &own
		}
		res.Contents = append(res.Contents, e)
	}
	for _, p := range page.prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc(p)})
	}
	return res
}

// encoder returns the encoding for names in a listing: identity, or S3's encoding-type=url
// (percent-encoding of everything but unreserved characters and "/").
func encoder(urlEncode bool) func(string) string {
	if !urlEncode {
		return func(s string) string { return s }
	}
	return func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
				c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
				b.WriteByte(c)
				continue
			}
			fmt.Fprintf(&b, "%%%02X", c)
		}
		return b.String()
	}
}
