package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/session"
)

// Command limits (AGENTCORE-WIRE.md §2.3).
const (
	maxCommandChars       = 65536
	defaultCommandTimeout = 300 // seconds
	maxCommandTimeout     = 3600
	// maxCommandTraceHeader bounds each trace header of this operation, which the model
	// allows longer than InvokeAgentRuntime does.
	maxCommandTraceHeader = 1024
)

// Final statuses of a command (CommandExecutionStatus).
const (
	commandCompleted = "COMPLETED"
	commandTimedOut  = "TIMED_OUT"
)

// timedOutExitCode is the exitCode reported with TIMED_OUT: the command did not exit on
// its own, Berth killed it, so it has no exit status; -1 is the model's "no status from
// the command" value (it also means platform error).
const timedOutExitCode = -1

var (
	errCommandTimedOut    = errors.New("the command exceeded its timeout")
	errCommandSessionOver = errors.New("the session ended")
)

// commandRequest is the body of InvokeAgentRuntimeCommand.
type commandRequest struct {
	Command *string `json:"command"`
	Timeout *int    `json:"timeout"`
}

// validate checks the body's constraints into f and returns the command and its timeout.
func (c commandRequest) validate(f *errdefs.Fields) (string, time.Duration) {
	cmd := ""
	if c.Command == nil {
		f.Add("body.command", "Member must not be null")
	} else {
		cmd = *c.Command
		if n := utf8.RuneCountInString(cmd); n < 1 || n > maxCommandChars {
			f.Add("body.command", "Member must have length between 1 and %d", maxCommandChars)
		}
		if strings.ContainsRune(cmd, 0) {
			f.Add("body.command", "Member must not contain NUL characters")
		}
	}
	timeout := defaultCommandTimeout
	if c.Timeout != nil {
		timeout = *c.Timeout
		if timeout < 1 || timeout > maxCommandTimeout {
			f.Add("body.timeout", "Member must have value between 1 and %d", maxCommandTimeout)
		}
	}
	return cmd, time.Duration(timeout) * time.Second
}

// invokeCommand is InvokeAgentRuntimeCommand (AGENTCORE-WIRE.md §2.3): it runs
// /bin/sh -c <command> inside the session's sandbox (starting the session if needed), with
// the sandbox's environment and the agent's working directory, and streams its output as an
// AWS event stream: contentStart, contentDelta chunks of stdout and stderr as they come,
// then contentStop with the exit code and COMPLETED, or exitCode -1 and TIMED_OUT when the
// timeout killed it. The session is held active for the command's duration.
//
// Errors before the stream starts are ordinary error responses. Once it has started, a
// failure is a modelled in-stream exception (runtimeClientError when the sandbox cannot
// run the command or the session ended under it, internalServerException otherwise) in
// place of contentStop. A caller that disconnects kills the command.
func (a *API) invokeCommand(w http.ResponseWriter, r *http.Request) error {
	addr, addrErr := a.parseAddress(r)
	if addrErr == nil {
		noteAddress(w, addr)
	}
	sid, sidErr := sessionID(r, true)
	var body commandRequest
	if err := httpapi.DecodeJSON(r, &body); err != nil {
		return err
	}
	var f errdefs.Fields
	checkHeaders(r, nil, maxCommandTraceHeader, &f)
	cmd, timeout := body.validate(&f)
	if err := mergeValidation(f, addrErr, sidErr); err != nil {
		return err
	}
	ctx := r.Context()
	rt, ep, v, err := a.tracedLiveVersion(ctx, addr)
	if err != nil {
		return err
	}
	lease, err := a.acquire(ctx, addr, sid, rt, ep, v)
	if err != nil {
		return err
	}
	defer lease.Release()
	ex, ok := lease.Sandbox().(sandbox.Execer)
	if !ok {
		return fmt.Errorf("%w: the sandbox driver of this server cannot run commands in a session", errdefs.ErrInvalidArgument)
	}
	traceparent := traceparentOf(ctx, r.Header)
	echoHeaders(w, r, sid, traceparent)
	es := startEventStream(w, http.StatusOK)
	a.runCommand(ctx, es, ex, lease, cmd, timeout)
	return nil
}

// runCommand runs cmd and writes its whole event stream; it never fails, it reports.
func (a *API) runCommand(ctx context.Context, es *eventStream, ex sandbox.Execer, lease *session.Lease, cmd string, timeout time.Duration) {
	if es.Event("chunk", responseChunk{ContentStart: &struct{}{}}) != nil {
		return // the caller is gone
	}
	sessionCtx, endSession := context.WithCancelCause(ctx)
	defer endSession(nil)
	go func() {
		select {
		case <-lease.Done():
			endSession(errCommandSessionOver)
			// Output writes blocked on a caller that stopped reading would keep the command
			// (and the sandbox's Stop) waiting: give them a last short deadline, enough to
			// send the final exception to a caller that does read.
			_ = es.rc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		case <-sessionCtx.Done():
		}
	}()
	execCtx, cancel := context.WithTimeoutCause(sessionCtx, timeout, errCommandTimedOut)
	defer cancel()
	stdout, stderr := newOutputStream(es, "stdout"), newOutputStream(es, "stderr")
	started := time.Now()
	code, err := ex.Exec(execCtx, sandbox.ExecRequest{
		Command: []string{"/bin/sh", "-c", cmd},
		Stdout:  stdout,
		Stderr:  stderr,
	})
	stdout.flush()
	stderr.flush()
	log := a.log.With("request_id", httpapi.RequestIDFrom(ctx), "record", lease.RecordID(), "duration", time.Since(started))
	// The session's end stops the sandbox, which kills the command: whatever Exec says then
	// is about the kill, unless the command had already finished well.
	sessionEnded := closedChan(lease.Done()) && (err != nil || code != 0)
	switch {
	case sessionEnded:
		log.Info("command ended with its session")
		_ = es.Exception("runtimeClientError", "the agent's session ended while the command was running")
	case err == nil:
		_ = es.Event("chunk", responseChunk{ContentStop: &contentStop{ExitCode: code, Status: commandCompleted}})
	case errors.Is(context.Cause(execCtx), errCommandTimedOut):
		log.Info("command timed out", "timeout", timeout)
		_ = es.Event("chunk", responseChunk{ContentStop: &contentStop{ExitCode: timedOutExitCode, Status: commandTimedOut}})
	case ctx.Err() != nil:
		log.Info("command cancelled: the caller went away", "err", err)
	case errors.Is(err, errdefs.ErrInvalidArgument):
		// The process driver reports a missing or unusable /bin/sh this way.
		log.Info("command could not run", "err", err)
		_ = es.Exception("runtimeClientError", "the session's sandbox could not run the command with /bin/sh (does the image have a shell?): "+err.Error())
	case errors.Is(err, errdefs.ErrConflict):
		_ = es.Exception("runtimeClientError", "the agent's session is ending; the command did not run")
	default:
		log.Error("run command", "err", err)
		_ = es.Exception("internalServerException", "internal server error (request id "+httpapi.RequestIDFrom(ctx)+")")
	}
}

// mergeValidation folds the field errors of errs (validation errors with field detail)
// into f and returns one ValidationError reporting every violation. With no violation
// it returns the first other error of errs, or nil.
func mergeValidation(f errdefs.Fields, errs ...error) error {
	var other error
	for _, err := range errs {
		var ve *errdefs.ValidationError
		switch {
		case err == nil:
		case errors.As(err, &ve) && len(ve.Fields) > 0:
			f = append(f, ve.Fields...)
		case other == nil:
			other = err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	return other
}

func closedChan(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
