package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/coder/websocket"
)

// wsEcho echoes every message; "close:<code>" closes the socket with that status code.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testagent: ws accept:", err)
		return
	}
	defer func() { _ = c.CloseNow() }()
	c.SetReadLimit(-1) // echo messages of any size
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText {
			if code, ok := strings.CutPrefix(string(msg), "close:"); ok {
				n, _ := strconv.Atoi(code)
				_ = c.Close(websocket.StatusCode(n), "closing as asked")
				return
			}
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}
