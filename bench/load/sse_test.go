package load

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		want    []string
		wantErr error // matched with errors.Is; nil: none
	}{
		{name: "empty", stream: "", want: nil},
		{name: "one event", stream: "data: {\"i\":0}\n\n", want: []string{`{"i":0}`}},
		{name: "two events, no space after colon", stream: "data:a\n\ndata:b\n\n", want: []string{"a", "b"}},
		{name: "multi-line data joined", stream: "data: a\ndata: b\n\n", want: []string{"a\nb"}},
		{name: "CRLF line ends", stream: "data: a\r\n\r\ndata: b\r\n\r\n", want: []string{"a", "b"}},
		{name: "comments, ids and event names ignored", stream: ": hi\nevent: x\nid: 7\ndata: a\n\n\n\n", want: []string{"a"}},
		{name: "blank lines without data are no event", stream: "\n\nevent: x\n\n", want: nil},
		{name: "stream ends inside an event", stream: "data: a\n\ndata: b\n", want: []string{"a"}, wantErr: io.ErrUnexpectedEOF},
		{name: "stream ends mid-line", stream: "data: a\n\ndata", want: []string{"a"}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		for _, rd := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"byte by byte", iotest.OneByteReader}} {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				var got []string
				n, err := readEvents(rd.wrap(strings.NewReader(tt.stream)), func(data []byte) error {
					got = append(got, string(data))
					return nil
				})
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if n != len(got) {
					t.Errorf("count = %d, %d events delivered", n, len(got))
				}
			})
		}
	}
}

func TestReadEvents_CallbackErrorStops(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	n, err := readEvents(strings.NewReader("data: a\n\ndata: b\n\ndata: c\n\n"), func([]byte) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 || calls != 2 {
		t.Errorf("n = %d, calls = %d, err = %v; want 2, 2, stop", n, calls, err)
	}
}

func TestReadEvents_LineTooLong(t *testing.T) {
	_, err := readEvents(strings.NewReader("data: "+strings.Repeat("x", 70<<10)+"\n\n"), func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("err = %v, want a line-length error", err)
	}
}

func TestEventIndex(t *testing.T) {
	tests := []struct {
		data    string
		want    int
		wantErr bool
	}{
		{data: `{"i":0,"sent_unix_nano":1763717654000000000}`, want: 0},
		{data: `{"i":19999,"sent_unix_nano":1}`, want: 19999},
		{data: `{"i":7}`, want: 7},
		{data: `{"n":7}`, wantErr: true},
		{data: `{"i":`, wantErr: true},
		{data: `{"i":x,}`, wantErr: true},
		{data: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := eventIndex([]byte(tt.data))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("eventIndex = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
