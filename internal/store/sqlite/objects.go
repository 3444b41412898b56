package sqlite

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/store"
)

const objectColumns = `bucket, object_key, version_id, digest, size, etag, content_type, metadata, created_ms`

func scanObject(s scanner) (store.Object, error) {
	var (
		ob       store.Object
		metadata string
		created  int64
	)
	if err := s.Scan(&ob.Bucket, &ob.Key, &ob.VersionID, &ob.Digest, &ob.Size, &ob.ETag,
		&ob.ContentType, &metadata, &created); err != nil {
		return store.Object{}, err
	}
	if err := decodeJSON(metadata, &ob.Metadata); err != nil {
		return store.Object{}, fmt.Errorf("decode metadata: %w", err)
	}
	ob.CreatedAt = fromMS(created)
	return ob, nil
}

func objectOp(verb, bucket, key string) string {
	return fmt.Sprintf("%s object %s/%s", verb, bucket, key)
}

// PutObject inserts the version first, so a duplicate VersionID (ErrConflict) or a missing
// bucket (ErrNotFound, by foreign key) changes nothing; only then does it move the current
// marker from the previous version to the new one.
func (o objects) PutObject(ctx context.Context, ob store.Object) error {
	op := objectOp("put", ob.Bucket, ob.Key)
	metadata, err := encodeJSON(ob.Metadata)
	if err != nil {
		return dbErr(op, err)
	}
	if _, err := o.q.ExecContext(ctx,
		`INSERT INTO objects (`+objectColumns+`, is_current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
		ob.Bucket, ob.Key, ob.VersionID, ob.Digest, ob.Size, ob.ETag, ob.ContentType, metadata,
		ms(ob.CreatedAt)); err != nil {
		return dbErr(op, err)
	}
	if _, err := o.q.ExecContext(ctx,
		`UPDATE objects SET is_current = 0 WHERE bucket = ? AND object_key = ? AND is_current = 1`,
		ob.Bucket, ob.Key); err != nil {
		return dbErr(op, err)
	}
	res, err := o.q.ExecContext(ctx,
		`UPDATE objects SET is_current = 1 WHERE bucket = ? AND object_key = ? AND version_id = ?`,
		ob.Bucket, ob.Key, ob.VersionID)
	return execOne(res, err, op)
}

func (o objects) GetObject(ctx context.Context, bucket, key, versionID string) (store.Object, error) {
	q := `SELECT ` + objectColumns + ` FROM objects WHERE bucket = ? AND object_key = ? AND is_current = 1`
	args := []any{bucket, key}
	if versionID != "" {
		q = `SELECT ` + objectColumns + ` FROM objects WHERE bucket = ? AND object_key = ? AND version_id = ?`
		args = append(args, versionID)
	}
	ob, err := scanObject(o.q.QueryRowContext(ctx, q, args...))
	if err != nil {
		return store.Object{}, dbErr(objectOp("get", bucket, key), err)
	}
	return ob, nil
}

// DeleteObject removes every version of the key and returns the distinct digests they
// referenced, sorted. A missing key is no error; a missing bucket is ErrNotFound.
func (o objects) DeleteObject(ctx context.Context, bucket, key string) ([]string, error) {
	op := objectOp("delete", bucket, key)
	if err := o.requireBucket(ctx, op, bucket); err != nil {
		return nil, err
	}
	digests, err := queryAll(ctx, o.q, op, scanString,
		`SELECT DISTINCT digest FROM objects WHERE bucket = ? AND object_key = ? ORDER BY digest`,
		bucket, key)
	if err != nil {
		return nil, err
	}
	if _, err := o.q.ExecContext(ctx,
		`DELETE FROM objects WHERE bucket = ? AND object_key = ?`, bucket, key); err != nil {
		return nil, dbErr(op, err)
	}
	return digests, nil
}

// ListObjects matches the prefix with substr rather than LIKE, so '%' and '_' in keys are
// plain characters. Keys compare as bytes (BINARY collation), which is S3's UTF-8 order.
// A missing bucket is ErrNotFound.
func (o objects) ListObjects(ctx context.Context, bucket, prefix, startAfter string, limit int) ([]store.Object, error) {
	op := "list objects of bucket " + bucket
	if err := o.requireBucket(ctx, op, bucket); err != nil {
		return nil, err
	}
	return queryAll(ctx, o.q, op, scanObject,
		`SELECT `+objectColumns+` FROM objects
		 WHERE bucket = ? AND is_current = 1 AND object_key > ?
		   AND object_key >= ? AND substr(object_key, 1, length(?)) = ?
		 ORDER BY object_key LIMIT ?`,
		bucket, startAfter, prefix, prefix, prefix, sqlLimit(limit))
}

func (o objects) DigestReferenced(ctx context.Context, digest string) (bool, error) {
	var ok bool
	if err := o.q.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM objects WHERE digest = ?)`, digest).Scan(&ok); err != nil {
		return false, dbErr("check references to "+digest, err)
	}
	return ok, nil
}
