package telemetry_test

import (
	"testing"

	"berth.dev/berth/internal/telemetry"
)

func TestOTLPHeaders(t *testing.T) {
	h, err := telemetry.OTLPHeaders([]string{"a=1", " b = x=y "})
	if err != nil || len(h) != 2 || h["a"] != "1" || h["b"] != "x=y" {
		t.Fatalf("OTLPHeaders = %v, %v", h, err)
	}
	if _, err := telemetry.OTLPHeaders([]string{"novalue"}); err == nil {
		t.Fatal("a header without = was accepted")
	}
	if u := telemetry.OTLPURL("http://c:4318/", "metrics"); u != "http://c:4318/v1/metrics" {
		t.Fatalf("OTLPURL = %s", u)
	}
}
