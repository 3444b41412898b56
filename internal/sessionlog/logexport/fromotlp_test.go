package logexport_test

import (
	"slices"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/sessionlog/logexport"
)

func TestFromOTLP(t *testing.T) {
	at := time.Date(2026, 5, 1, 2, 3, 4, 5, time.UTC)
	str := func(s string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{
		{TimeUnixNano: uint64(at.UnixNano()), SeverityText: "INFO", Body: str("calling the model\n")},
		{ObservedTimeUnixNano: uint64(at.Add(time.Second).UnixNano()), Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{
			KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{{Key: "tokens", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 42}}}}},
		}}},
	}}}}}}
	got := logexport.FromOTLP(req)
	want := []sessionlog.Record{
		{Time: at, Stream: sessionlog.StreamOTel, Line: "INFO calling the model"},
		{Time: at.Add(time.Second), Stream: sessionlog.StreamOTel, Line: `{"tokens":42}`},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("records %+v, want %+v", got, want)
	}
}
