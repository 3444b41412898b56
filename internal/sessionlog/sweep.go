package sessionlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sessionFiles are the files of one session's log.
type sessionFiles struct {
	id    string
	paths []string
	bytes int64
	ended time.Time // the newest modification time: Writer.Close sets it to the end
}

// Sweep removes the logs of sessions that ended more than MaxAge ago, then, while all logs
// together exceed MaxTotalBytes, those of the sessions that ended longest ago. The logs of
// sessions with an open Writer are never removed. It returns how many sessions' logs it
// removed.
func (l *Logs) Sweep() (int, error) {
	all, err := l.list()
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	var total int64
	ended := all[:0]
	for _, s := range all {
		total += s.bytes
		if l.live[s.id] == nil {
			ended = append(ended, s)
		}
	}
	l.mu.Unlock()
	slices.SortFunc(ended, func(a, b *sessionFiles) int { return a.ended.Compare(b.ended) })
	cutoff := l.opts.Now().Add(-l.opts.MaxAge)
	removed := 0
	var errs []error
	for _, s := range ended {
		if !s.ended.Before(cutoff) && total <= l.opts.MaxTotalBytes {
			break // the rest ended later still
		}
		for _, p := range s.paths {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		total -= s.bytes
		removed++
		l.log.Debug("removed session log", "record", s.id, "ended", s.ended, "bytes", s.bytes)
	}
	return removed, errors.Join(errs...)
}

// list returns the session logs in the directory.
func (l *Logs) list() ([]*sessionFiles, error) {
	entries, err := os.ReadDir(l.opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("list session logs: %w", err)
	}
	byID := map[string]*sessionFiles{}
	for _, e := range entries {
		name := e.Name()
		id, ok := strings.CutSuffix(name, currentSuffix)
		if !ok {
			id, ok = strings.CutSuffix(name, previousSuffix)
		}
		if !ok || id == "" || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		s := byID[id]
		if s == nil {
			s = &sessionFiles{id: id}
			byID[id] = s
		}
		s.paths = append(s.paths, filepath.Join(l.opts.Dir, name))
		s.bytes += fi.Size()
		if fi.ModTime().After(s.ended) {
			s.ended = fi.ModTime()
		}
	}
	out := make([]*sessionFiles, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
	}
	return out, nil
}
