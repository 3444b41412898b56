package auth

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/errdefs"
)

// WriteCredentialsFile writes an AWS shared-credentials file (the INI format every AWS SDK
// and the AWS CLI read through AWS_SHARED_CREDENTIALS_FILE) holding one profile, "default".
// The file is mode 0600 and replaced atomically (temporary file, fsync, rename, fsync of the
// directory); the directory is created 0700 if needed. region only appears in a comment: the
// credentials file has no region setting.
func WriteCredentialsFile(path, accessKeyID, secretAccessKey, region string) error {
	if strings.ContainsAny(accessKeyID+secretAccessKey, "\r\n[]= \t") || accessKeyID == "" || secretAccessKey == "" {
		return fmt.Errorf("write credentials file %s: %w: unusable key", path, errdefs.ErrInvalidArgument)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Credentials for the berth server's admin access key. Point any AWS SDK or the AWS CLI at it:\n")
	fmt.Fprintf(&b, "#   export AWS_SHARED_CREDENTIALS_FILE=%s\n", path)
	fmt.Fprintf(&b, "#   export AWS_REGION=%s\n", region)
	fmt.Fprintf(&b, "# and set the endpoint URL (--endpoint-url or AWS_ENDPOINT_URL) to the server's address.\n")
	fmt.Fprintf(&b, "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", accessKeyID, secretAccessKey)

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write credentials file %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write credentials file %s: %w", path, err)
	}
	return nil
}

// ReadCredentialsFile returns the access key id and secret of a profile in an AWS
// shared-credentials file. A missing file or profile is an error wrapping errdefs.ErrNotFound.
func ReadCredentialsFile(path, profile string) (accessKeyID, secretAccessKey string, err error) {
	data, err := os.ReadFile(filepath.Clean(path))
	if os.IsNotExist(err) {
		return "", "", fmt.Errorf("read credentials file %s: %w", path, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("read credentials file %s: %w", path, err)
	}
	var section string
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == profile
			continue
		}
		if section != profile {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			accessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secretAccessKey = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("read credentials file %s: %w", path, err)
	}
	if !found || accessKeyID == "" || secretAccessKey == "" {
		return "", "", fmt.Errorf("read credentials file %s: profile %q with aws_access_key_id and aws_secret_access_key: %w",
			path, profile, errdefs.ErrNotFound)
	}
	return accessKeyID, secretAccessKey, nil
}
