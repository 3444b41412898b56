// Package sessionlog keeps each session's agent output: every line the agent writes to
// stdout or stderr, timestamped, in a file per session under the server's data dir, and
// lets the API read it back (the last lines, the lines since a time) and follow it as it is
// written.
//
// # Format
//
// A session's log is JSON lines, one Record per line:
//
//	{"t":"2026-11-21T12:00:00.123456789Z","stream":"stdout","line":"hello"}
//
// t is the time the line's first byte arrived; stream is stdout or stderr, output where the
// two arrive as one (a pooled sandbox's output, and logs from before this format), berth for
// Berth's own notices, otel for records from Appender; partial marks a line that did not end
// there (see below). Logs written before this format (raw bytes in <id>.log) read as lines
// without a time on stream output.
//
// # Files and limits
//
// Writer keeps a session's lines in <dir>/<record id>.log. When that file reaches half of
// MaxBytesPerSession it becomes <record id>.log.1 (replacing the one before) and a new
// <record id>.log starts: a session keeps at most about MaxBytesPerSession, dropping its
// oldest lines first. A line longer than MaxLineBytes is cut into several records, all but
// the last marked partial. A line the agent has not finished (a prompt) is written, marked
// partial, once it has waited PartialDelay, so followers see it; the rest of it follows as
// its own record.
//
// The sweeper (Logs.Start) removes the logs of sessions that ended (no Writer is open for
// them) more than MaxAge ago, and then, while all logs together exceed MaxTotalBytes, the
// logs of the sessions that ended longest ago. A session's end is the modification time of
// its log: Writer.Close sets it.
//
// # Reading and following
//
// Logs.Read reads a session's log and, when asked to, follows it: an open Writer in this
// process wakes its followers as soon as it has written (no polling); a log without one (a
// session of another process) is polled every FollowPoll. Following ends when the session
// has ended and everything is read, or when EndFollows is called (the server shuts down).
//
// # Export
//
// An Exporter (package sessionlog/logexport has the OTLP one) receives every record
// written, with the Source that names its session. Logs.Append (the Appender interface)
// adds lines from other sources of a live session — for example the OTLP logs an agent
// sends to Berth's receiver in its sandbox, turned into records by logexport.FromOTLP — to
// its log and the export.
package sessionlog
