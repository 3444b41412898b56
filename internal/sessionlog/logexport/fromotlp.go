package logexport

import (
	"encoding/json"
	"strings"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/telemetry"
)

// FromOTLP turns the log records of an OTLP export request (what an agent sent to Berth's
// receiver in its sandbox) into session log records of stream otel, for
// sessionlog.Appender: the time is the record's (else its observed time), the line its
// severity text, if any, and its body — a string as it is, anything else as JSON. Other
// attributes are not kept.
func FromOTLP(req *collogspb.ExportLogsServiceRequest) []sessionlog.Record {
	var out []sessionlog.Record
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				ns := lr.GetTimeUnixNano()
				if ns == 0 {
					ns = lr.GetObservedTimeUnixNano()
				}
				var t time.Time
				if ns != 0 {
					t = time.Unix(0, int64(ns)).UTC()
				}
				line := bodyText(lr.GetBody())
				if sev := lr.GetSeverityText(); sev != "" {
					line = sev + " " + line
				}
				out = append(out, sessionlog.Record{Time: t, Stream: sessionlog.StreamOTel, Line: strings.TrimRight(line, "\n")})
			}
		}
	}
	return out
}

// bodyText is a log body as one line of text.
func bodyText(v *commonpb.AnyValue) string {
	if s, ok := v.GetValue().(*commonpb.AnyValue_StringValue); ok {
		return s.StringValue
	}
	raw, err := json.Marshal(telemetry.OTLPValue(v))
	if err != nil {
		return ""
	}
	return string(raw)
}
