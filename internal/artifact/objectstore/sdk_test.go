package objectstore

import (
	"bytes"
	"context"
	"crypto/md5" // #nosec G501 -- comparing S3 ETags
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func mustCreateBucket(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket(%s): %v", bucket, err)
	}
}

func mustPut(t *testing.T, c *s3.Client, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
	return out
}

func mustGet(t *testing.T, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(t.Context(), in)
	if err != nil {
		t.Fatalf("GetObject(%s/%s): %v", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	defer func() { _ = out.Body.Close() }()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read GetObject body: %v", err)
	}
	return b, out
}

func apiCode(err error) string {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		return ae.ErrorCode()
	}
	return ""
}

func TestHandler_SDK_RoundTrip(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c, ctx := ts.client, t.Context()
	mustCreateBucket(t, c, "code")

	body := []byte("hello, berth object store")
	put, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String("code"),
		Key:         aws.String("agent/deployment.zip"),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/zip"),
		Metadata:    map[string]string{"Owner": "team-a", "build": "42"},
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	sum := md5.Sum(body) // #nosec G401 -- ETag
	wantETag := `"` + hex.EncodeToString(sum[:]) + `"`
	if got := aws.ToString(put.ETag); got != wantETag {
		t.Errorf("PutObject ETag = %s, want %s", got, wantETag)
	}
	if aws.ToString(put.VersionId) == "" {
		t.Error("PutObject returned no VersionId")
	}
	if put.ChecksumCRC32 == nil {
		t.Error("PutObject did not echo the CRC32 checksum the SDK sent")
	}
	// The SDK sent a seekable body over plain HTTP: a header checksum and a signed payload hash.
	if h := ts.puts.last(); h.Get("X-Amz-Checksum-Crc32") == "" || len(h.Get("X-Amz-Content-Sha256")) != 64 {
		t.Errorf("unexpected PutObject headers: checksum %q, content sha256 %q",
			h.Get("X-Amz-Checksum-Crc32"), h.Get("X-Amz-Content-Sha256"))
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	gotHead := []string{aws.ToString(head.ContentType), aws.ToString(head.ETag), aws.ToString(head.VersionId),
		fmt.Sprint(aws.ToInt64(head.ContentLength))}
	wantHead := []string{"application/zip", wantETag, aws.ToString(put.VersionId), fmt.Sprint(len(body))}
	if diff := cmp.Diff(wantHead, gotHead); diff != "" {
		t.Errorf("HeadObject (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"owner": "team-a", "build": "42"}, head.Metadata); diff != "" {
		t.Errorf("HeadObject metadata (-want +got):\n%s", diff)
	}

	got, _ := mustGet(t, c, &s3.GetObjectInput{Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip")})
	if !bytes.Equal(got, body) {
		t.Errorf("GetObject body = %q, want %q", got, body)
	}

	ranges := []struct {
		header, want, contentRange string
	}{
		{"bytes=0-4", "hello", "bytes 0-4/25"},
		{"bytes=7-", "berth object store", "bytes 7-24/25"},
		{"bytes=-5", "store", "bytes 20-24/25"},
		{"bytes=20-1000", "store", "bytes 20-24/25"},
	}
	for _, tt := range ranges {
		t.Run("range "+tt.header, func(t *testing.T) {
			got, out := mustGet(t, c, &s3.GetObjectInput{
				Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip"), Range: aws.String(tt.header),
			})
			if string(got) != tt.want || aws.ToString(out.ContentRange) != tt.contentRange {
				t.Errorf("got %q (%s), want %q (%s)", got, aws.ToString(out.ContentRange), tt.want, tt.contentRange)
			}
		})
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip"), Range: aws.String("bytes=100-"),
	})
	if apiCode(err) != "InvalidRange" {
		t.Errorf("GetObject past the end: error %v, want InvalidRange", err)
	}

	// Conditional reads.
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip"), IfMatch: aws.String(`"0000"`),
	}); apiCode(err) != "PreconditionFailed" {
		t.Errorf("GetObject If-Match mismatch: error %v, want PreconditionFailed", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip"), IfNoneMatch: aws.String(wantETag),
	}); apiCode(err) != "NotModified" {
		t.Errorf("GetObject If-None-Match match: error %v, want NotModified (304)", err)
	}
	got, _ = mustGet(t, c, &s3.GetObjectInput{
		Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip"), IfMatch: aws.String(wantETag),
	})
	if !bytes.Equal(got, body) {
		t.Errorf("GetObject If-Match match = %q", got)
	}

	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "code" {
		t.Errorf("ListBuckets = %+v, want [code]", lb.Buckets)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("code")}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("code")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("GetBucketLocation = %v, %v; want the empty (us-east-1) constraint", loc, err)
	}

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("code"), Key: aws.String("agent/deployment.zip")}); err != nil {
		t.Errorf("DeleteObject of a missing key: %v, want success", err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("code")}); err != nil {
		t.Errorf("DeleteBucket: %v", err)
	}
	if blobs := filesUnder(t, ts.blobDir); len(blobs) != 0 {
		t.Errorf("files left after deleting everything: %v", blobs)
	}
}

// TestHandler_SDK_StreamingUpload sends a large body from an unseekable reader over TLS,
// which makes the SDK use aws-chunked with a trailing CRC32. With a known length the SDK
// sends the whole body as one chunk; without, as 64 KiB chunks. internal/auth's SigV4
// verifier decodes the body; the handler stores it and checks the trailing checksum.
func TestHandler_SDK_StreamingUpload(t *testing.T) {
	tests := []struct {
		size        int
		knownLength bool
	}{
		{20 << 20, true},
		{20 << 20, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dMiB/length-known=%v", tt.size>>20, tt.knownLength), func(t *testing.T) {
			data := randomBytes(uint64(tt.size), tt.size)
			want := sha256.Sum256(data)
			ts := newTestServer(t, serverOptions{tls: true})
			c, ctx := ts.client, t.Context()
			mustCreateBucket(t, c, "big")
			in := &s3.PutObjectInput{
				Bucket: aws.String("big"), Key: aws.String("large.bin"),
				Body: onlyReader{bytes.NewReader(data)},
			}
			if tt.knownLength {
				in.ContentLength = aws.Int64(int64(len(data)))
			}
			out, err := c.PutObject(ctx, in)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			h := ts.puts.last()
			if h.Get("X-Amz-Content-Sha256") != streamingUnsignedTrailer || !hasCoding(h, "aws-chunked") ||
				h.Get("X-Amz-Trailer") != "x-amz-checksum-crc32" {
				t.Fatalf("the SDK did not send aws-chunked with a CRC32 trailer: %v", h)
			}
			if aws.ToString(out.ChecksumCRC32) == "" {
				t.Error("PutObject did not echo the trailing checksum")
			}
			got, _ := mustGet(t, c, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("large.bin")})
			if sha256.Sum256(got) != want {
				t.Fatalf("GetObject returned %d bytes that differ from the %d sent", len(got), len(data))
			}
			rc, info, err := ts.store.OpenObject(ctx, "big", "large.bin", "")
			if err != nil {
				t.Fatalf("OpenObject: %v", err)
			}
			_ = rc.Close()
			if info.Digest != "sha256:"+hex.EncodeToString(want[:]) || info.Size != int64(len(data)) {
				t.Errorf("OpenObject info = %+v", info)
			}
		})
	}
}

// TestHandler_SDK_UnsignedStream covers a client built with s3.New alone (no checksum
// defaults): it streams an unseekable body raw as UNSIGNED-PAYLOAD over TLS.
func TestHandler_SDK_UnsignedStream(t *testing.T) {
	data := randomBytes(2, 3<<20+17)
	ts := newTestServer(t, serverOptions{tls: true})
	c := newS3Client(ts.srv.URL+"/s3", ts.srv.Client(), testKeyID, testSecret, func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	mustCreateBucket(t, c, "raw")
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String("raw"), Key: aws.String("k"), Body: onlyReader{bytes.NewReader(data)},
		ContentLength: aws.Int64(int64(len(data))),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if h := ts.puts.last(); h.Get("X-Amz-Content-Sha256") != unsignedPayload || hasCoding(h, "aws-chunked") {
		t.Fatalf("expected a raw UNSIGNED-PAYLOAD body, got %v", h)
	}
	got, _ := mustGet(t, c, &s3.GetObjectInput{Bucket: aws.String("raw"), Key: aws.String("k")})
	if !bytes.Equal(got, data) {
		t.Fatalf("GetObject returned %d bytes that differ from the %d sent", len(got), len(data))
	}
}

func TestHandler_SDK_Keys(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c, ctx := ts.client, t.Context()
	mustCreateBucket(t, c, "keys")
	keys := []string{
		"with space.zip",
		"unicodé/日本語/ключ.zip",
		"literal%2Fpercent",
		"a/b/../c",
		"./dot",
		"double//slash",
		"plus+sign&amp=;",
		"question?hash#end",
		"trailing/",
		"tab\there",
		"~tilde*star'quote\"(paren)",
	}
	for i, k := range keys {
		mustPut(t, c, "keys", k, []byte(fmt.Sprintf("object %d", i)))
	}
	for i, k := range keys {
		got, _ := mustGet(t, c, &s3.GetObjectInput{Bucket: aws.String("keys"), Key: aws.String(k)})
		if want := fmt.Sprintf("object %d", i); string(got) != want {
			t.Errorf("GetObject(%q) = %q, want %q", k, got, want)
		}
	}
	for _, enc := range []types.EncodingType{"", types.EncodingTypeUrl} {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("keys"), EncodingType: enc})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		var listed []string
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			if enc == types.EncodingTypeUrl {
				if k, err = url.PathUnescape(k); err != nil {
					t.Fatalf("url-decode listed key %q: %v", aws.ToString(o.Key), err)
				}
			}
			listed = append(listed, k)
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		if diff := cmp.Diff(want, listed); diff != "" {
			t.Errorf("ListObjectsV2 encoding %q keys (-want +got):\n%s", enc, diff)
		}
	}
}

func TestHandler_SDK_ListObjectsV2(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c, ctx := ts.client, t.Context()
	mustCreateBucket(t, c, "list")
	var all []string
	for _, dir := range []string{"a", "b", "c"} {
		for i := range 9 {
			all = append(all, fmt.Sprintf("%s/%02d.zip", dir, i))
		}
	}
	all = append(all, "a/deep/x.zip", "a/deep/y.zip", "top.zip", "zz/1")
	for _, k := range all {
		mustPut(t, c, "list", k, []byte(k))
	}
	slices.Sort(all)

	// Every key, through the paginator, in pages smaller than the bucket.
	listAll := func(in s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
		t.Helper()
		p := s3.NewListObjectsV2Paginator(c, &in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListObjectsV2 page: %v", err)
			}
			pages++
			n := len(out.Contents) + len(out.CommonPrefixes)
			if int(aws.ToInt32(out.KeyCount)) != n || n > int(aws.ToInt32(in.MaxKeys)) {
				t.Fatalf("page KeyCount %d, entries %d, MaxKeys %d", aws.ToInt32(out.KeyCount), n, aws.ToInt32(in.MaxKeys))
			}
			for _, o := range out.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
			for _, cp := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
		}
		return keys, prefixes, pages
	}

	tests := []struct {
		name         string
		in           s3.ListObjectsV2Input
		wantKeys     []string
		wantPrefixes []string
		wantPages    int
	}{
		{
			name:      "all in pages of 7",
			in:        s3.ListObjectsV2Input{MaxKeys: aws.Int32(7)},
			wantKeys:  all,
			wantPages: 5, // 31 keys
		},
		{
			name:         "delimiter at the root",
			in:           s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)},
			wantKeys:     []string{"top.zip"},
			wantPrefixes: []string{"a/", "b/", "c/", "zz/"},
			wantPages:    3,
		},
		{
			name:         "prefix and delimiter",
			in:           s3.ListObjectsV2Input{Prefix: aws.String("a/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(4)},
			wantKeys:     []string{"a/00.zip", "a/01.zip", "a/02.zip", "a/03.zip", "a/04.zip", "a/05.zip", "a/06.zip", "a/07.zip", "a/08.zip"},
			wantPrefixes: []string{"a/deep/"},
			wantPages:    3,
		},
		{
			name:      "prefix only",
			in:        s3.ListObjectsV2Input{Prefix: aws.String("a/deep/"), MaxKeys: aws.Int32(1000)},
			wantKeys:  []string{"a/deep/x.zip", "a/deep/y.zip"},
			wantPages: 1,
		},
		{
			name:      "start after",
			in:        s3.ListObjectsV2Input{StartAfter: aws.String("c/07.zip"), MaxKeys: aws.Int32(2)},
			wantKeys:  []string{"c/08.zip", "top.zip", "zz/1"},
			wantPages: 2,
		},
		{
			name:      "prefix with no keys",
			in:        s3.ListObjectsV2Input{Prefix: aws.String("nothing/"), MaxKeys: aws.Int32(5)},
			wantPages: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Bucket = aws.String("list")
			keys, prefixes, pages := listAll(in)
			if diff := cmp.Diff(tt.wantKeys, keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPrefixes, prefixes); diff != "" {
				t.Errorf("common prefixes (-want +got):\n%s", diff)
			}
			if pages != tt.wantPages {
				t.Errorf("pages = %d, want %d", pages, tt.wantPages)
			}
		})
	}

	// The default page is 1000 keys, and the response says so.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if aws.ToInt32(out.MaxKeys) != 1000 || aws.ToBool(out.IsTruncated) || len(out.Contents) != len(all) {
		t.Errorf("default listing: MaxKeys %d, truncated %v, %d keys", aws.ToInt32(out.MaxKeys), aws.ToBool(out.IsTruncated), len(out.Contents))
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String("list"), ContinuationToken: aws.String("not-a-token"),
	}); apiCode(err) != "InvalidArgument" {
		t.Errorf("bad continuation token: error %v, want InvalidArgument", err)
	}

	// ListObjects (V1) with a delimiter pages by NextMarker.
	var v1Keys, v1Prefixes []string
	marker := ""
	for range 20 {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{
			Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), Marker: aws.String(marker),
		})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		for _, o := range out.Contents {
			v1Keys = append(v1Keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			v1Prefixes = append(v1Prefixes, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
	}
	if diff := cmp.Diff([]string{"top.zip"}, v1Keys); diff != "" {
		t.Errorf("ListObjects keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a/", "b/", "c/", "zz/"}, v1Prefixes); diff != "" {
		t.Errorf("ListObjects prefixes (-want +got):\n%s", diff)
	}
}

func TestHandler_SDK_Versioning(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c, ctx := ts.client, t.Context()
	mustCreateBucket(t, c, "versions")
	v1 := mustPut(t, c, "versions", "agent.zip", []byte("first"))
	v2 := mustPut(t, c, "versions", "agent.zip", []byte("second"))
	if aws.ToString(v1.VersionId) == aws.ToString(v2.VersionId) {
		t.Fatalf("two puts returned the same version id %s", aws.ToString(v1.VersionId))
	}
	tests := []struct {
		version string
		want    string
	}{
		{"", "second"},
		{aws.ToString(v2.VersionId), "second"},
		{aws.ToString(v1.VersionId), "first"},
	}
	for _, tt := range tests {
		t.Run("version "+tt.version, func(t *testing.T) {
			in := &s3.GetObjectInput{Bucket: aws.String("versions"), Key: aws.String("agent.zip")}
			if tt.version != "" {
				in.VersionId = aws.String(tt.version)
			}
			got, out := mustGet(t, c, in)
			if string(got) != tt.want {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
			if tt.version != "" && aws.ToString(out.VersionId) != tt.version {
				t.Errorf("VersionId = %s, want %s", aws.ToString(out.VersionId), tt.version)
			}
		})
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("versions"), Key: aws.String("agent.zip"), VersionId: aws.String("no-such-version"),
	}); apiCode(err) != "NoSuchVersion" {
		t.Errorf("GetObject of a missing version: error %v, want NoSuchVersion", err)
	}
	// The listing shows the current version only.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("versions")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(out.Contents) != 1 || aws.ToInt64(out.Contents[0].Size) != int64(len("second")) {
		t.Errorf("listing = %+v, want one object of 6 bytes", out.Contents)
	}
	// Deleting the key removes both versions and both blobs.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("agent.zip")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("versions"), Key: aws.String("agent.zip"), VersionId: v1.VersionId,
	}); apiCode(err) != "NoSuchVersion" {
		t.Errorf("GetObject of a deleted version: error %v, want NoSuchVersion", err)
	}
	if blobs := filesUnder(t, ts.blobDir); len(blobs) != 0 {
		t.Errorf("blobs left after delete: %v", blobs)
	}
}

func TestHandler_SDK_Errors(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c, ctx := ts.client, t.Context()
	mustCreateBucket(t, c, "errs")
	mustPut(t, c, "errs", "present", []byte("x"))

	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("errs"), Key: aws.String("absent")})
	if _, ok := errors.AsType[*types.NoSuchKey](err); !ok {
		t.Errorf("GetObject missing key: %v, want *types.NoSuchKey", err)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nobucket")})
	if _, ok := errors.AsType[*types.NoSuchBucket](err); !ok {
		t.Errorf("ListObjectsV2 missing bucket: %v, want *types.NoSuchBucket", err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("errs"), Key: aws.String("absent")})
	if _, ok := errors.AsType[*types.NotFound](err); !ok {
		t.Errorf("HeadObject missing key: %v, want *types.NotFound", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nobucket")})
	if _, ok := errors.AsType[*types.NotFound](err); !ok {
		t.Errorf("HeadBucket missing bucket: %v, want *types.NotFound", err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("errs")})
	if _, ok := errors.AsType[*types.BucketAlreadyOwnedByYou](err); !ok {
		t.Errorf("CreateBucket existing: %v, want *types.BucketAlreadyOwnedByYou", err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("errs")})
	if apiCode(err) != "BucketNotEmpty" {
		t.Errorf("DeleteBucket non-empty: %v, want BucketNotEmpty", err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("nobucket")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("DeleteBucket missing: %v, want NoSuchBucket", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("PutObject into a missing bucket: %v, want NoSuchBucket", err)
	}
	_, err = c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("errs"), Key: aws.String("present")})
	if apiCode(err) != "NotImplemented" {
		t.Errorf("GetObjectAcl: %v, want NotImplemented", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("errs"), Key: aws.String("copy"), CopySource: aws.String("errs/present")})
	if apiCode(err) != "NotImplemented" {
		t.Errorf("CopyObject: %v, want NotImplemented", err)
	}
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("errs"), Key: aws.String("mp")})
	if apiCode(err) != "NotImplemented" {
		t.Errorf("CreateMultipartUpload: %v, want NotImplemented", err)
	}

	// Bad credentials never reach storage.
	bad := newS3Client(ts.srv.URL+"/s3", ts.srv.Client(), testKeyID, "wrong-secret")
	_, err = bad.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("intruder")})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("CreateBucket with a wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	unknown := newS3Client(ts.srv.URL+"/s3", ts.srv.Client(), "AKIAUNKNOWNKEY000000", testSecret)
	_, err = unknown.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("errs"), Key: aws.String("intruder"), Body: strings.NewReader("x")})
	if apiCode(err) != "InvalidAccessKeyId" {
		t.Errorf("PutObject with an unknown key: %v, want InvalidAccessKeyId", err)
	}
	buckets, err := ts.store.ListBuckets(ctx)
	if err != nil || len(buckets) != 1 {
		t.Errorf("buckets after refused requests = %v, %v; want only errs", buckets, err)
	}
	if _, _, err := ts.store.OpenObject(ctx, "errs", "intruder", ""); err == nil {
		t.Error("a refused PutObject stored an object")
	}
}

func TestHandler_SDK_PresignedGet(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c, ctx := ts.client, t.Context()
	mustCreateBucket(t, c, "presign")
	mustPut(t, c, "presign", "dir/file name.txt", []byte("presigned content"))
	req, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String("presign"), Key: aws.String("dir/file name.txt"),
	})
	if err != nil {
		t.Fatalf("PresignGetObject: %v", err)
	}
	resp, err := ts.srv.Client().Get(req.URL)
	if err != nil {
		t.Fatalf("GET presigned URL: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(b) != "presigned content" {
		t.Errorf("presigned GET = %d %q %v", resp.StatusCode, b, err)
	}
	_ = context.Background
}
