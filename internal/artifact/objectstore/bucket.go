package objectstore

import (
	"encoding/xml"
	"io"
	"net/http"

	"berth.dev/berth/internal/store"
)

// maxBucketConfig bounds CreateBucket's optional XML body.
const maxBucketConfig = 64 << 10

// owner is the single owner this store reports: buckets are not per account.
var storeOwner = owner{ID: "berth", DisplayName: "berth"}

func (h *handler) listBuckets(w http.ResponseWriter, r *http.Request) error {
	buckets, err := h.s.ListBuckets(r.Context())
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{Xmlns: s3Namespace, Owner: storeOwner, Buckets: []bucketEntry{}}
	for _, b := range buckets {
		res.Buckets = append(res.Buckets, bucketEntry{Name: b.Name, CreationDate: xmlTime(b.CreatedAt)})
	}
	return h.writeXML(w, r, res)
}

// createBucket answers an existing bucket with 409 BucketAlreadyOwnedByYou, as S3 does in
// every region but us-east-1 (where it answers 200 for the same owner): a client then learns
// the bucket was not new.
func (h *handler) createBucket(w http.ResponseWriter, r *http.Request, bucket string) error {
	if err := validateBucketName(bucket); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBucketConfig+1))
	if err != nil {
		return errIncompleteBody()
	}
	if len(body) > maxBucketConfig {
		return newAPIError(http.StatusBadRequest, "MalformedXML", "The CreateBucketConfiguration is too large.", nil)
	}
	if len(body) > 0 {
		// The location constraint is accepted and ignored: there is one location.
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return newAPIError(http.StatusBadRequest, "MalformedXML",
				"The XML you provided was not well-formed or did not validate against our published schema.", nil)
		}
	}
	if err := h.s.CreateBucket(r.Context(), bucket); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *handler) headBucket(w http.ResponseWriter, r *http.Request, bucket string) error {
	if err := h.bucketExists(r, bucket); err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", h.s.opts.Region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *handler) deleteBucket(w http.ResponseWriter, r *http.Request, bucket string) error {
	if err := validateBucketName(bucket); err != nil {
		return err
	}
	if err := h.s.DeleteBucket(r.Context(), bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bucketLocation answers GetBucketLocation; like S3, us-east-1 is the empty constraint.
func (h *handler) bucketLocation(w http.ResponseWriter, r *http.Request, bucket string) error {
	if err := h.bucketExists(r, bucket); err != nil {
		return err
	}
	region := h.s.opts.Region
	if region == "us-east-1" {
		region = ""
	}
	return h.writeXML(w, r, locationConstraint{Xmlns: s3Namespace, Region: region})
}

func (h *handler) bucketExists(r *http.Request, bucket string) error {
	if err := validateBucketName(bucket); err != nil {
		return err
	}
	return h.s.db.View(r.Context(), func(tx store.Tx) error {
		_, err := getBucket(r.Context(), tx, bucket)
		return err
	})
}
