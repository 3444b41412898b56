package auth

import (
	"crypto/rand"
	"encoding/base32"
)

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GenerateAccessKey returns a new access key id ("AKIA" and 16 upper-case base32 characters,
// 80 random bits) and a 40-character secret of [A-Za-z0-9] (about 238 random bits; no "/" or
// "+", so it survives URLs, shells and basic-auth prompts unquoted).
func GenerateAccessKey() (id, secretKey string) {
	var raw [10]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (it crashes the program instead)
	id = "AKIA" + base32.StdEncoding.EncodeToString(raw[:])

	out := make([]byte, 40)
	var b [1]byte
	for i := range out {
		for {
			_, _ = rand.Read(b[:])
			if b[0] < 248 { // 248 = 4*62: rejection keeps the choice uniform
				out[i] = secretAlphabet[int(b[0])%len(secretAlphabet)]
				break
			}
		}
	}
	return id, string(out)
}
