package agentotlp

import (
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"berth.dev/berth/internal/telemetry/tracestore"
)

// Labels say which runtime, version, endpoint and session a sandbox serves. A pooled
// sandbox not yet handed to a session has none.
type Labels struct {
	RuntimeID      string
	RuntimeVersion string
	Endpoint       string
	SessionID      string // the runtime session id
}

// attrs are the labels as attributes, the empty ones left out.
func (l Labels) attrs() []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for _, kv := range []struct{ k, v string }{
		{tracestore.AttrRuntimeID, l.RuntimeID},
		{tracestore.AttrRuntimeVersion, l.RuntimeVersion},
		{tracestore.AttrEndpoint, l.Endpoint},
		{tracestore.AttrSessionID, l.SessionID},
	} {
		if kv.v != "" {
			out = append(out, str(kv.k, kv.v))
		}
	}
	return out
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// stampResource sets the labels on res (created if nil) and returns it. Values the agent
// sent under the same keys are replaced: Berth, not the agent, says where spans come from.
func stampResource(res *resourcepb.Resource, l Labels) *resourcepb.Resource {
	if res == nil {
		res = &resourcepb.Resource{}
	}
	res.Attributes = setAttrs(res.Attributes, l.attrs())
	return res
}

// stampTraces sets the labels on every resource and AgentCore's session.id on every span.
func stampTraces(rs []*tracepb.ResourceSpans, l Labels) {
	for _, r := range rs {
		r.Resource = stampResource(r.Resource, l)
		if l.SessionID == "" {
			continue
		}
		sid := []*commonpb.KeyValue{str(tracestore.AttrSessionID, l.SessionID)}
		for _, ss := range r.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				sp.Attributes = setAttrs(sp.Attributes, sid)
			}
		}
	}
}

// setAttrs returns kvs with every key of set replaced by set's value or added.
func setAttrs(kvs, set []*commonpb.KeyValue) []*commonpb.KeyValue {
	for _, s := range set {
		replaced := false
		for i, kv := range kvs {
			if kv.GetKey() == s.Key {
				kvs[i], replaced = s, true
			}
		}
		if !replaced {
			kvs = append(kvs, s)
		}
	}
	return kvs
}
