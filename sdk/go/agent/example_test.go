package agent_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"

	"berth.dev/berth/sdk/go/agent"
)

// An agent that answers with JSON. In a real agent, main calls
// app.ListenAndServe(ctx) instead of starting a test server.
func Example() {
	app := agent.New(func(ctx context.Context, req agent.Request) (any, error) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, agent.Error(http.StatusBadRequest, err.Error())
		}
		return map[string]string{"result": "Hello, " + in.Prompt + "!", "session": agent.SessionID(ctx)}, nil
	})

	srv := httptest.NewServer(app)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/invocations",
		strings.NewReader(`{"prompt":"Berth"}`))
	req.Header.Set(agent.HeaderSessionID, "0123456789abcdef0123456789abcdef0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("Content-Type"))
	fmt.Println(string(body))
	// Output:
	// application/json
	// {"result":"Hello, Berth!","session":"0123456789abcdef0123456789abcdef0"}
}

// A streaming agent: each value the iterator yields is one Server-Sent Event.
func Example_streaming() {
	app := agent.New(func(ctx context.Context, req agent.Request) (any, error) {
		return iter.Seq2[any, error](func(yield func(any, error) bool) {
			for _, word := range []string{"Hel", "lo"} {
				if !yield(word, nil) {
					return
				}
			}
		}), nil
	})

	srv := httptest.NewServer(app)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		panic(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s\n%q\n", resp.Header.Get("Content-Type"), body)
	// Output:
	// text/event-stream; charset=utf-8
	// "data: \"Hel\"\n\ndata: \"lo\"\n\n"
}

// Long-running work: /ping reports HealthyBusy until done is called.
func ExampleApp_Busy() {
	var app *agent.App
	finished := make(chan struct{})
	app = agent.New(func(ctx context.Context, req agent.Request) (any, error) {
		done := app.Busy("report")
		go func() {
			defer done()
			<-finished // the real work would run here
		}()
		return map[string]string{"status": "started"}, nil
	})
	status, _ := app.Status(context.Background())
	fmt.Println(status)
	done := app.Busy("warm-up")
	status, _ = app.Status(context.Background())
	fmt.Println(status)
	done()
	close(finished)
	// Output:
	// Healthy
	// HealthyBusy
}

// The entry point of an agent binary.
func ExampleApp_ListenAndServe() {
	app := agent.New(func(ctx context.Context, req agent.Request) (any, error) {
		return map[string]string{"echo": string(req.Payload)}, nil
	})
	ctx, stop := context.WithCancel(context.Background()) // e.g. signal.NotifyContext
	stop()                                                // (here: stop at once)
	if err := app.ListenAndServe(ctx); err != nil {
		fmt.Println(err)
	}
}
