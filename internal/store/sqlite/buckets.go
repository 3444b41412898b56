package sqlite

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// objects implements store.Objects: buckets here, object versions in objects.go.
type objects tx

var _ store.Objects = objects{}

func scanBucket(s scanner) (store.Bucket, error) {
	var (
		b       store.Bucket
		created int64
	)
	if err := s.Scan(&b.Name, &created); err != nil {
		return store.Bucket{}, err
	}
	b.CreatedAt = fromMS(created)
	return b, nil
}

func (o objects) CreateBucket(ctx context.Context, b store.Bucket) error {
	_, err := o.q.ExecContext(ctx,
		`INSERT INTO buckets (name, created_ms) VALUES (?, ?)`, b.Name, ms(b.CreatedAt))
	if err != nil {
		return dbErr("create bucket "+b.Name, err)
	}
	return nil
}

func (o objects) GetBucket(ctx context.Context, name string) (store.Bucket, error) {
	b, err := scanBucket(o.q.QueryRowContext(ctx,
		`SELECT name, created_ms FROM buckets WHERE name = ?`, name))
	if err != nil {
		return store.Bucket{}, dbErr("get bucket "+name, err)
	}
	return b, nil
}

func (o objects) ListBuckets(ctx context.Context) ([]store.Bucket, error) {
	return queryAll(ctx, o.q, "list buckets", scanBucket,
		`SELECT name, created_ms FROM buckets ORDER BY name`)
}

// DeleteBucket removes an empty bucket. A bucket that still holds any object version is
// ErrConflict (S3's BucketNotEmpty).
func (o objects) DeleteBucket(ctx context.Context, name string) error {
	op := "delete bucket " + name
	var used bool
	if err := o.q.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?)`, name).Scan(&used); err != nil {
		return dbErr(op, err)
	}
	if used {
		return fmt.Errorf("%s: %w: bucket is not empty", op, errdefs.ErrConflict)
	}
	res, err := o.q.ExecContext(ctx, `DELETE FROM buckets WHERE name = ?`, name)
	return execOne(res, err, op)
}

// requireBucket returns ErrNotFound unless the bucket exists.
func (o objects) requireBucket(ctx context.Context, op, name string) error {
	var ok bool
	if err := o.q.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?)`, name).Scan(&ok); err != nil {
		return dbErr(op, err)
	}
	if !ok {
		return fmt.Errorf("%s: bucket %s: %w", op, name, errdefs.ErrNotFound)
	}
	return nil
}
