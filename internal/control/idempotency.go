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

// idempotent runs do inside tx unless (scope, token) was seen before. A repeat with the same
// input replays the first result into result; a repeat with different input is a
// ValidationException with reason IdempotentParameterMismatchException. An empty token means
// no idempotency. input must be JSON-encodable and must not contain the token itself.
func (s *Service) idempotent(ctx context.Context, tx store.Tx, scope, token string, input, result any, do func() error) (replayed bool, err error) {
	if token == "" {
		return false, do()
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return false, fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	rec, err := tx.Idempotency().GetIdempotency(ctx, scope, token)
	switch {
	case err == nil:
		if rec.RequestHash != hash {
			return false, &errdefs.ValidationError{
				Reason: errdefs.ReasonIdempotentMismatch,
				Msg:    "the clientToken was already used with different request parameters",
			}
		}
		if err := json.Unmarshal(rec.Body, result); err != nil {
			return false, fmt.Errorf("replay idempotent answer: %w", err)
		}
		return true, nil
	case !errors.Is(err, errdefs.ErrNotFound):
		return false, fmt.Errorf("look up client token: %w", err)
	}
	if err := do(); err != nil {
		return false, err
	}
	body, err := json.Marshal(result)
	if err != nil {
		return false, fmt.Errorf("record idempotent answer: %w", err)
	}
	err = tx.Idempotency().PutIdempotency(ctx, store.IdempotencyRecord{
		Scope: scope, Token: token, RequestHash: hash, StatusCode: 202, Body: body, CreatedAt: s.now(),
	})
	if err != nil {
		return false, fmt.Errorf("record client token: %w", err)
	}
	return false, nil
}
