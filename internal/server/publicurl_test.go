package server

import (
	"testing"

	"berth.dev/berth/internal/config"
)

func TestPublicBaseURL_Resolve(t *testing.T) {
	cases := []struct {
		name   string
		public string
		listen string
		bound  string
		want   string
	}{
		{"configured public url wins", "https://berth.example/", "127.0.0.1:0", "127.0.0.1:41234", "https://berth.example"},
		{"port 0 becomes the bound port", "", "127.0.0.1:0", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"fixed port", "", "127.0.0.1:8080", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"named host kept", "", "berth.local:8080", "10.0.0.5:8080", "http://berth.local:8080"},
		{"wildcard ipv4 becomes localhost", "", "0.0.0.0:8080", "0.0.0.0:8080", "http://localhost:8080"},
		{"empty host becomes localhost", "", ":8080", "[::]:8080", "http://localhost:8080"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.PublicURL, cfg.Listen = tc.public, tc.listen
			if got := publicBaseURL(cfg, tc.bound); got != tc.want {
				t.Errorf("publicBaseURL = %q, want %q", got, tc.want)
			}
		})
	}
}
