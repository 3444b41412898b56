package sqlite

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/internal/store"
)

// idempotency implements store.Idempotency.
type idempotency tx

var _ store.Idempotency = idempotency{}

func (i idempotency) GetIdempotency(ctx context.Context, scope, token string) (store.IdempotencyRecord, error) {
	var (
		r       store.IdempotencyRecord
		created int64
	)
	err := i.q.QueryRowContext(ctx,
		`SELECT scope, token, request_hash, status_code, body, created_ms
		 FROM idempotency WHERE scope = ? AND token = ?`, scope, token).
		Scan(&r.Scope, &r.Token, &r.RequestHash, &r.StatusCode, &r.Body, &created)
	if err != nil {
		return store.IdempotencyRecord{}, dbErr(fmt.Sprintf("get idempotency record %s/%s", scope, token), err)
	}
	r.CreatedAt = fromMS(created)
	return r, nil
}

func (i idempotency) PutIdempotency(ctx context.Context, r store.IdempotencyRecord) error {
	_, err := i.q.ExecContext(ctx,
		`INSERT INTO idempotency (scope, token, request_hash, status_code, body, created_ms)
		 VALUES (?, ?, ?, ?, ?, ?)`,
		r.Scope, r.Token, r.RequestHash, r.StatusCode, r.Body, ms(r.CreatedAt))
	if err != nil {
		return dbErr(fmt.Sprintf("put idempotency record %s/%s", r.Scope, r.Token), err)
	}
	return nil
}

func (i idempotency) DeleteIdempotencyBefore(ctx context.Context, t time.Time) (int, error) {
	const op = "delete idempotency records"
	res, err := i.q.ExecContext(ctx, `DELETE FROM idempotency WHERE created_ms < ?`, ms(t))
	if err != nil {
		return 0, dbErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbErr(op, err)
	}
	return int(n), nil
}
