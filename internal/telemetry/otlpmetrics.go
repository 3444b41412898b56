package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// OTLPMetrics returns a reader that pushes the metrics to an OTLP/HTTP receiver at
// {endpoint}/v1/metrics every interval (AgentCore publishes in one-minute batches), with
// cumulative temporality, as the Prometheus endpoint shows them.
func OTLPMetrics(ctx context.Context, endpoint string, headers []string, interval time.Duration) (sdkmetric.Reader, error) {
	h, err := OTLPHeaders(headers)
	if err != nil {
		return nil, err
	}
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(OTLPURL(endpoint, "metrics")), otlpmetrichttp.WithHeaders(h))
	if err != nil {
		return nil, fmt.Errorf("otlp metric exporter: %w", err)
	}
	return sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval)), nil
}
