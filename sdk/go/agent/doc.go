// Package agent is the Go SDK for writing agents that Berth (or AWS Bedrock AgentCore
// Runtime) can run: an [http.Handler] that serves the AgentCore HTTP protocol contract.
//
//   - POST /invocations calls the [Handler]. Its result decides the response: a value is
//     sent as application/json; an [iter.Seq2] of (value, error), an [iter.Seq] or a
//     [StreamFunc] is sent as Server-Sent Events (one "data: <json>\n\n" event per value,
//     flushed as produced); an [http.Handler] (see [Raw]) takes over the response.
//   - GET /ping answers {"status":"Healthy"|"HealthyBusy","time_of_last_update":<unix s>}.
//     The status is HealthyBusy while any [App.Busy] task is open, unless a [WithPing]
//     function or [App.ForceStatus] decides otherwise; time_of_last_update changes only
//     when the status does.
//   - GET /ws accepts a WebSocket (github.com/coder/websocket) for the [WithWebSocket]
//     handler.
//
// The platform's per-request metadata (runtime session id, request id, workload access
// token, OAuth2 callback URL, forwardable headers) is in the [Request] and in the context:
// see [SessionID], [RequestID], [WorkloadAccessToken], [OAuth2CallbackURL], [Headers].
//
// Errors follow the Python SDK (bedrock_agentcore): a body that is not JSON is answered
// 400 {"error":"Invalid JSON","details":...} (unless [WithRawPayload]); an [*HTTPError]
// is answered with its status and {"error": message}; any other error or a panic is 500
// {"error": err.Error()}; an error during a stream becomes a last event
// {"error","error_type","message":"An error occurred during streaming"}.
//
// Limits: request bodies are read whole before the handler runs (100 MB by default, see
// [WithMaxBodyBytes]); no debug actions (the Python SDK's "_agent_core_app_action"
// payloads); WebSocket origin checks are off by default because the platform
// authenticates callers (override with [WithWebSocketAcceptOptions]).
package agent
