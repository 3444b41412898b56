package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// idempotent runs do in a write transaction (s.update) unless (scope, token) was seen
// before. A repeat with the same input replays the first result into result; a repeat with
// different input is a ValidationException with reason IdempotentParameterMismatchException.
// An empty token means no idempotency. input must be JSON-encodable and must not contain
// the token itself.
func (s *Service) idempotent(ctx context.Context, scope, token string, input, result any, do func(tx store.Tx) error) error {
	return s.update(ctx, func(tx store.Tx) error { return s.once(ctx, tx, scope, token, input, result, do) })
}

// once is idempotent's work inside tx.
func (s *Service) once(ctx context.Context, tx store.Tx, scope, token string, input, result any, do func(tx store.Tx) error) error {
	if token == "" {
		return do(tx)
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	rec, err := tx.Idempotency().GetIdempotency(ctx, scope, token)
	switch {
	case err == nil:
		if rec.RequestHash != hash {
			return &errdefs.ValidationError{
				Reason: errdefs.ReasonIdempotentMismatch,
				Msg:    "the clientToken was already used with different request parameters",
			}
		}
		if err := json.Unmarshal(rec.Body, result); err != nil {
			return fmt.Errorf("replay idempotent answer: %w", err)
		}
		return nil
	case !errors.Is(err, errdefs.ErrNotFound):
		return fmt.Errorf("look up client token: %w", err)
	}
	if err := do(tx); err != nil {
		return err
	}
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("record idempotent answer: %w", err)
	}
	err = tx.Idempotency().PutIdempotency(ctx, store.IdempotencyRecord{
		Scope: scope, Token: token, RequestHash: hash, StatusCode: 202, Body: body, CreatedAt: s.now(),
	})
	if err != nil {
		return fmt.Errorf("record client token: %w", err)
	}
	return nil
}
