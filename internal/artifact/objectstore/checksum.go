package objectstore

import (
	"crypto/sha1" // #nosec G505 -- S3's x-amz-checksum-sha1, an integrity check only
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"
)

// checksumAlgorithms are the x-amz-checksum-* algorithms, by their lower-case header suffix.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVME is the CRC-64/NVME table (reversed polynomial, as crc64.MakeTable expects).
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

const checksumHeaderPrefix = "x-amz-checksum-"

// checksum is one x-amz-checksum-* value to verify against the content.
type checksum struct {
	algorithm string // "crc32", …
	header    string // "x-amz-checksum-crc32"
	h         hash.Hash
}

func (c *checksum) matches(value string) bool {
	return base64.StdEncoding.EncodeToString(c.h.Sum(nil)) == value
}

// newChecksum returns the checksum named by a header such as "x-amz-checksum-crc32".
func newChecksum(header string) (*checksum, error) {
	header = strings.ToLower(strings.TrimSpace(header))
	alg, ok := strings.CutPrefix(header, checksumHeaderPrefix)
	if !ok {
		return nil, errInvalidRequest("The trailer %q is not a checksum.", header)
	}
	mk, ok := checksumAlgorithms[alg]
	if !ok {
		return nil, errInvalidRequest("The checksum algorithm %q is not supported.", alg)
	}
	return &checksum{algorithm: alg, header: header, h: mk()}, nil
}

// headerChecksum finds the one x-amz-checksum-<algorithm> request header, if any.
func headerChecksum(h http.Header) (*checksum, string, error) {
	var found *checksum
	var value string
	for alg := range checksumAlgorithms {
		v := h.Get(checksumHeaderPrefix + alg)
		if v == "" {
			continue
		}
		if found != nil {
			return nil, "", errInvalidRequest("Expecting a single x-amz-checksum- header.")
		}
		c, err := newChecksum(checksumHeaderPrefix + alg)
		if err != nil {
			return nil, "", err
		}
		found, value = c, v
	}
	return found, value, nil
}
