package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"berth.dev/berth/internal/secret"
	"berth.dev/berth/internal/store"
)

// AdminKeyDescription marks the access key EnsureAdminKey creates.
const AdminKeyDescription = "admin key, created by berth on first start"

// EnsureAdminKey makes sure account has an admin access key and that credentialsPath holds it.
//
// On first start (no key of account carries AdminKeyDescription) it generates a key, stores
// it with its secret sealed by kr (committed before the file is written), and writes
// credentialsPath with WriteCredentialsFile, replacing any stale file. On later starts it
// leaves an existing file alone and, if the file is missing, rewrites it from the stored
// secret. A disabled admin key is never written out. It is idempotent; created reports
// whether this call made the key.
func EnsureAdminKey(ctx context.Context, st store.Store, kr *secret.Keyring, account, region, credentialsPath string) (id string, created bool, err error) {
	var admin store.AccessKey
	var found bool
	var newSecret string
	err = st.Update(ctx, func(tx store.Tx) error {
		found, newSecret = false, ""
		keys, err := tx.AccessKeys().ListAccessKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.Account == account && k.Description == AdminKeyDescription {
				admin, found = k, true
				return nil
			}
		}
		var kid string
		kid, newSecret = GenerateAccessKey()
		admin, err = sealedKey(kr, kid, newSecret, account, AdminKeyDescription, time.Now())
		if err != nil {
			return err
		}
		return tx.AccessKeys().CreateAccessKey(ctx, admin)
	})
	if err != nil {
		return "", false, fmt.Errorf("ensure admin access key: %w", err)
	}
	if !found {
		if err := WriteCredentialsFile(credentialsPath, admin.ID, newSecret, region); err != nil {
			return admin.ID, true, fmt.Errorf("ensure admin access key: %w", err)
		}
		return admin.ID, true, nil
	}

	if _, err := os.Stat(credentialsPath); err == nil {
		return admin.ID, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return admin.ID, false, fmt.Errorf("ensure admin access key: %w", err)
	}
	if admin.Disabled {
		return admin.ID, false, nil
	}
	plain, err := kr.Open(admin.SecretEncrypted, []byte(admin.ID))
	if err != nil {
		return admin.ID, false, fmt.Errorf("ensure admin access key %s: %w", admin.ID, err)
	}
	if err := WriteCredentialsFile(credentialsPath, admin.ID, string(plain), region); err != nil {
		return admin.ID, false, fmt.Errorf("ensure admin access key: %w", err)
	}
	return admin.ID, false, nil
}
