package sqlite

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// registry implements store.Registry. Tags reference their manifest with a foreign key that
// cascades on delete, so deleting a manifest drops its tags and tagging a manifest the
// repository does not hold is ErrNotFound.
type registry tx

var _ store.Registry = registry{}

const manifestColumns = `repository, digest, media_type, size, created_ms`

func scanManifest(s scanner) (store.Manifest, error) {
	var (
		m       store.Manifest
		created int64
	)
	if err := s.Scan(&m.Repository, &m.Digest, &m.MediaType, &m.Size, &created); err != nil {
		return store.Manifest{}, err
	}
	m.CreatedAt = fromMS(created)
	return m, nil
}

func manifestOp(verb, repository, digest string) string {
	return fmt.Sprintf("%s manifest %s@%s", verb, repository, digest)
}

// PutManifest keeps the first record of an existing (Repository, Digest) pair.
func (r registry) PutManifest(ctx context.Context, m store.Manifest) error {
	_, err := r.q.ExecContext(ctx,
		`INSERT INTO manifests (`+manifestColumns+`) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (repository, digest) DO NOTHING`,
		m.Repository, m.Digest, m.MediaType, m.Size, ms(m.CreatedAt))
	if err != nil {
		return dbErr(manifestOp("put", m.Repository, m.Digest), err)
	}
	return nil
}

func (r registry) GetManifest(ctx context.Context, repository, digest string) (store.Manifest, error) {
	m, err := scanManifest(r.q.QueryRowContext(ctx,
		`SELECT `+manifestColumns+` FROM manifests WHERE repository = ? AND digest = ?`,
		repository, digest))
	if err != nil {
		return store.Manifest{}, dbErr(manifestOp("get", repository, digest), err)
	}
	return m, nil
}

func (r registry) DeleteManifest(ctx context.Context, repository, digest string) error {
	res, err := r.q.ExecContext(ctx,
		`DELETE FROM manifests WHERE repository = ? AND digest = ?`, repository, digest)
	return execOne(res, err, manifestOp("delete", repository, digest))
}

func (r registry) PutTag(ctx context.Context, repository, tag, digest string) error {
	_, err := r.q.ExecContext(ctx,
		`INSERT INTO tags (repository, tag, digest) VALUES (?, ?, ?)
		 ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest`,
		repository, tag, digest)
	if err != nil {
		return dbErr(fmt.Sprintf("put tag %s:%s", repository, tag), err)
	}
	return nil
}

func (r registry) GetTag(ctx context.Context, repository, tag string) (string, error) {
	digest, err := scanString(r.q.QueryRowContext(ctx,
		`SELECT digest FROM tags WHERE repository = ? AND tag = ?`, repository, tag))
	if err != nil {
		return "", dbErr(fmt.Sprintf("get tag %s:%s", repository, tag), err)
	}
	return digest, nil
}

func (r registry) ListTags(ctx context.Context, repository string) ([]string, error) {
	op := "list tags of " + repository
	var ok bool
	if err := r.q.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM manifests WHERE repository = ?)`, repository).Scan(&ok); err != nil {
		return nil, dbErr(op, err)
	}
	if !ok {
		return nil, fmt.Errorf("%s: repository has no manifests: %w", op, errdefs.ErrNotFound)
	}
	return queryAll(ctx, r.q, op, scanString,
		`SELECT tag FROM tags WHERE repository = ? ORDER BY tag`, repository)
}

func (r registry) ListRepositories(ctx context.Context) ([]string, error) {
	return queryAll(ctx, r.q, "list repositories", scanString,
		`SELECT DISTINCT repository FROM manifests ORDER BY repository`)
}
