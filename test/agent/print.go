package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

// printOutput is the op "print": it writes content as it is (no newline added, so a test
// can print half a line) to stdout, or to stderr when name is "stderr", and answers with
// the time just before it wrote ("printed_unix_nano"), for tests of session logs.
func printOutput(w http.ResponseWriter, req request) {
	out := os.Stdout
	if req.Name == "stderr" {
		out = os.Stderr
	}
	at := time.Now().UnixNano()
	if _, err := fmt.Fprint(out, req.Content); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"printed_unix_nano": at})
}
