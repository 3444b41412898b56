package sqlite

import (
	"context"

	"berth.dev/berth/internal/store"
)

// accessKeys implements store.AccessKeys.
type accessKeys tx

var _ store.AccessKeys = accessKeys{}

const accessKeyColumns = `id, secret_encrypted, account, description, disabled, created_ms`

func scanAccessKey(s scanner) (store.AccessKey, error) {
	var (
		k        store.AccessKey
		disabled int
		created  int64
	)
	if err := s.Scan(&k.ID, &k.SecretEncrypted, &k.Account, &k.Description, &disabled, &created); err != nil {
		return store.AccessKey{}, err
	}
	k.Disabled = disabled != 0
	k.CreatedAt = fromMS(created)
	return k, nil
}

func (a accessKeys) CreateAccessKey(ctx context.Context, k store.AccessKey) error {
	secret := k.SecretEncrypted
	if secret == nil {
		secret = []byte{} // NOT NULL; a nil slice would bind as NULL
	}
	_, err := a.q.ExecContext(ctx,
		`INSERT INTO access_keys (`+accessKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, secret, k.Account, k.Description, boolInt(k.Disabled), ms(k.CreatedAt))
	if err != nil {
		return dbErr("create access key "+k.ID, err)
	}
	return nil
}

func (a accessKeys) GetAccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	k, err := scanAccessKey(a.q.QueryRowContext(ctx,
		`SELECT `+accessKeyColumns+` FROM access_keys WHERE id = ?`, id))
	if err != nil {
		return store.AccessKey{}, dbErr("get access key "+id, err)
	}
	return k, nil
}

func (a accessKeys) ListAccessKeys(ctx context.Context) ([]store.AccessKey, error) {
	return queryAll(ctx, a.q, "list access keys", scanAccessKey,
		`SELECT `+accessKeyColumns+` FROM access_keys ORDER BY created_ms, id`)
}

func (a accessKeys) UpdateAccessKey(ctx context.Context, k store.AccessKey) error {
	res, err := a.q.ExecContext(ctx,
		`UPDATE access_keys SET description = ?, disabled = ? WHERE id = ?`,
		k.Description, boolInt(k.Disabled), k.ID)
	return execOne(res, err, "update access key "+k.ID)
}
