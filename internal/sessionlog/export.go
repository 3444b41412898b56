package sessionlog

// Source names the session a log belongs to, for export.
type Source struct {
	RecordID       string // the session record id, as in GET /berth/v1/sessions/{id}
	RuntimeID      string
	RuntimeVersion string // "1", "2", …
	Endpoint       string
	SessionID      string // the runtime session id
}

// Exporter receives every record written to a session's log, in order per session, with
// the session's Source. Export is called by the writing goroutine while the session's
// output waits: it must not block (queue and batch instead) and must not keep recs.
type Exporter interface {
	Export(src Source, recs []Record)
}

// Appender adds lines from other sources of a session than its agent's stdout and stderr —
// for example OTLP log records the agent sent to Berth's receiver in its sandbox
// (logexport.FromOTLP makes them records of StreamOTel) — to the session's log and its
// export. Logs implements it.
type Appender interface {
	// Append writes recs (their Time and Stream as given; a zero Time becomes now) to the
	// log of the live session with record id recordID. It fails with ErrNotLive when that
	// session has no open log in this process.
	Append(recordID string, recs []Record) error
}

var _ Appender = (*Logs)(nil)
