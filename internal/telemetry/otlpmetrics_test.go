package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"berth.dev/berth/internal/telemetry"
)

// TestOTLPMetrics_PushesTheSameMetrics: with an OTLP reader, what /metrics shows is also
// pushed to a real OTLP/HTTP receiver (decoded with the collector's pmetricotlp), with the
// configured headers.
func TestOTLPMetrics_PushesTheSameMetrics(t *testing.T) {
	got := make(chan pmetricotlp.ExportRequest, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/metrics" || r.Header.Get("X-Tenant") != "acme" {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- req
		resp, _ := pmetricotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	defer srv.Close()
	ctx := context.Background()
	reader, err := telemetry.OTLPMetrics(ctx, srv.URL, []string{"X-Tenant=acme"}, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := telemetry.New(telemetry.Sources{}, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mt.Shutdown(ctx) }()
	mt.Billed(ctx, "rt-1", "DEFAULT", 3600, 0)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case req := <-got:
			rms := req.Metrics().ResourceMetrics()
			for i := range rms.Len() {
				sms := rms.At(i).ScopeMetrics()
				for j := range sms.Len() {
					ms := sms.At(j).Metrics()
					for k := range ms.Len() {
						m := ms.At(k)
						if m.Name() == "berth.cpu_used_vcpu_hours" && m.Sum().DataPoints().Len() == 1 && m.Sum().DataPoints().At(0).DoubleValue() == 1 {
							return
						}
					}
				}
			}
		case <-deadline:
			t.Fatal("no pushed metrics carried the billed vCPU-hour")
		}
	}
}
