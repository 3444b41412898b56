package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// withEgressAllowlist adds Berth's networkConfiguration.egressAllowlist extension to a
// CreateAgentRuntime or UpdateAgentRuntime request. The AWS SDK has no field for it, so the
// middleware edits the JSON body the SDK serialized, before it is signed.
func withEgressAllowlist(domains []string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Serialize.Insert(middleware.SerializeMiddlewareFunc("BerthEgressAllowlist",
			func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return next.HandleSerialize(ctx, in)
				}
				body, err := addEgressAllowlist(req.GetStream(), domains)
				if err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				if req, err = req.SetStream(bytes.NewReader(body)); err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("egress allowlist: %w", err)
				}
				in.Request = req
				return next.HandleSerialize(ctx, in)
			}), "OperationSerializer", middleware.After)
	}
}

// addEgressAllowlist returns the JSON request body with networkConfiguration.egressAllowlist
// set to domains.
func addEgressAllowlist(r io.Reader, domains []string) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("egress allowlist: the request has no body")
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("egress allowlist: read body: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("egress allowlist: decode body: %w", err)
	}
	network := map[string]any{}
	if nc, ok := body["networkConfiguration"]; ok {
		if err := json.Unmarshal(nc, &network); err != nil {
			return nil, fmt.Errorf("egress allowlist: decode networkConfiguration: %w", err)
		}
	}
	network["egressAllowlist"] = domains
	nc, err := json.Marshal(network)
	if err != nil {
		return nil, fmt.Errorf("egress allowlist: %w", err)
	}
	body["networkConfiguration"] = nc
	return json.Marshal(body)
}
