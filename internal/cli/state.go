package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"berth.dev/berth/internal/atomicfile"
)

// stateFile is where the CLI remembers per-project state, relative to the working
// directory (like the starter toolkit's .bedrock_agentcore.yaml).
const stateFile = ".berth/state.json"

// cliState is the content of the state file.
type cliState struct {
	// Sessions maps a runtime ARN to the last runtime session id invoke used with it.
	Sessions map[string]string `json:"sessions"`
}

// loadState reads the state file; a missing file is an empty state.
func loadState() (cliState, error) {
	s := cliState{Sessions: map[string]string{}}
	raw, err := os.ReadFile(stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read %s: %w", stateFile, err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, hintError{fmt.Errorf("read %s: %w", stateFile, err), "delete the file; it only remembers session ids"}
	}
	if s.Sessions == nil {
		s.Sessions = map[string]string{}
	}
	return s, nil
}

// save writes the state file atomically, creating its directory.
func (s cliState) save() error {
	if err := os.MkdirAll(filepath.Dir(stateFile), 0o750); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := atomicfile.WriteFile(stateFile, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}
