package vmm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// QMP is a client for the QEMU Machine Protocol: JSON objects, one per line, over a stream.
// Commands run one at a time; events that arrive meanwhile are kept for WaitEvent.
type QMP struct {
	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	nextID int
	events []Event
}

// Event is an asynchronous QMP event.
type Event struct {
	Name string          `json:"event"`
	Data json.RawMessage `json:"data"`
}

// QMPError is an error answer to a command.
type QMPError struct {
	Command string
	Class   string `json:"class"`
	Desc    string `json:"desc"`
}

func (e *QMPError) Error() string {
	return fmt.Sprintf("qmp %s: %s: %s", e.Command, e.Class, e.Desc)
}

// message is any line QEMU sends.
type message struct {
	Greeting json.RawMessage `json:"QMP"`
	Return   json.RawMessage `json:"return"`
	Error    *QMPError       `json:"error"`
	Event    string          `json:"event"`
	Data     json.RawMessage `json:"data"`
	ID       json.RawMessage `json:"id"`
}

// NewQMP reads the greeting on conn and leaves capabilities negotiation mode. It owns conn
// from then on.
func NewQMP(ctx context.Context, conn net.Conn) (*QMP, error) {
	q := &QMP{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	stop := q.deadline(ctx)
	defer stop()
	m, err := q.read()
	if err != nil {
		return nil, fmt.Errorf("qmp greeting: %w", err)
	}
	if m.Greeting == nil {
		return nil, errors.New("qmp greeting: unexpected first message")
	}
	if err := q.execute("qmp_capabilities", nil, nil); err != nil {
		return nil, err
	}
	return q, nil
}

// Execute runs command with args (nil for none) and decodes its return value into out (nil
// to ignore it).
func (q *QMP) Execute(ctx context.Context, command string, args, out any) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	stop := q.deadline(ctx)
	defer stop()
	return q.execute(command, args, out)
}

// WaitEvent returns the first event, kept or new, for which match is true; earlier events
// are dropped.
func (q *QMP) WaitEvent(ctx context.Context, match func(Event) bool) (Event, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.events) > 0 {
		e := q.events[0]
		q.events = q.events[1:]
		if match(e) {
			return e, nil
		}
	}
	stop := q.deadline(ctx)
	defer stop()
	for {
		m, err := q.read()
		if err != nil {
			return Event{}, fmt.Errorf("qmp wait for event: %w", err)
		}
		if m.Event != "" {
			if e := (Event{Name: m.Event, Data: m.Data}); match(e) {
				return e, nil
			}
		}
	}
}

// Close closes the connection.
func (q *QMP) Close() error { return q.conn.Close() }

func (q *QMP) execute(command string, args, out any) error {
	q.nextID++
	id := strconv.Itoa(q.nextID)
	req := struct {
		Execute   string `json:"execute"`
		Arguments any    `json:"arguments,omitempty"`
		ID        string `json:"id"`
	}{command, args, id}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("qmp %s: %w", command, err)
	}
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("qmp %s: %w", command, err)
	}
	for {
		m, err := q.read()
		if err != nil {
			return fmt.Errorf("qmp %s: %w", command, err)
		}
		switch {
		case m.Event != "":
			q.events = append(q.events, Event{Name: m.Event, Data: m.Data})
		case string(m.ID) != strconv.Quote(id):
			// An answer to a command we gave up on (its context ended); skip it.
		case m.Error != nil:
			m.Error.Command = command
			return m.Error
		default:
			if out == nil || m.Return == nil {
				return nil
			}
			if err := json.Unmarshal(m.Return, out); err != nil {
				return fmt.Errorf("qmp %s: decode return: %w", command, err)
			}
			return nil
		}
	}
}

func (q *QMP) read() (message, error) {
	line, err := q.r.ReadBytes('\n')
	if err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return message{}, fmt.Errorf("decode %q: %w", line, err)
	}
	return m, nil
}

// deadline makes blocked reads and writes on the connection fail when ctx ends.
func (q *QMP) deadline(ctx context.Context) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		_ = q.conn.SetDeadline(d)
	}
	cancel := context.AfterFunc(ctx, func() { _ = q.conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		cancel()
		_ = q.conn.SetDeadline(time.Time{})
	}
}
