package controlplane

import (
	"time"

	"berth.dev/berth/internal/catalog"
)

// The response shapes of AGENTCORE-WIRE.md §3. Unset optional members are omitted.

const timeFormat = "2006-01-02T15:04:05.000Z"

func ts(t time.Time) string { return t.UTC().Format(timeFormat) }

type workloadIdentityDetails struct {
	WorkloadIdentityArn string `json:"workloadIdentityArn"`
}

type createRuntimeRequest struct {
	AgentRuntimeName string            `json:"agentRuntimeName"`
	ClientToken      *string           `json:"clientToken,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	catalog.RuntimeConfig
}

type updateRuntimeRequest struct {
	ClientToken *string `json:"clientToken,omitempty"`
	catalog.RuntimeConfig
}

type runtimeMutationResponse struct {
	AgentRuntimeArn         string                  `json:"agentRuntimeArn"`
	AgentRuntimeID          string                  `json:"agentRuntimeId"`
	AgentRuntimeVersion     string                  `json:"agentRuntimeVersion"`
	WorkloadIdentityDetails workloadIdentityDetails `json:"workloadIdentityDetails"`
	CreatedAt               string                  `json:"createdAt"`
	LastUpdatedAt           string                  `json:"lastUpdatedAt,omitempty"`
	Status                  catalog.Status          `json:"status"`
}

type getRuntimeResponse struct {
	AgentRuntimeArn         string                  `json:"agentRuntimeArn"`
	AgentRuntimeName        string                  `json:"agentRuntimeName"`
	AgentRuntimeID          string                  `json:"agentRuntimeId"`
	AgentRuntimeVersion     string                  `json:"agentRuntimeVersion"`
	CreatedAt               string                  `json:"createdAt"`
	LastUpdatedAt           string                  `json:"lastUpdatedAt"`
	Status                  catalog.Status          `json:"status"`
	FailureReason           string                  `json:"failureReason,omitempty"`
	WorkloadIdentityDetails workloadIdentityDetails `json:"workloadIdentityDetails"`
	catalog.RuntimeConfig
}

type runtimeSummary struct {
	AgentRuntimeArn     string         `json:"agentRuntimeArn"`
	AgentRuntimeID      string         `json:"agentRuntimeId"`
	AgentRuntimeVersion string         `json:"agentRuntimeVersion"`
	AgentRuntimeName    string         `json:"agentRuntimeName"`
	Description         *string        `json:"description,omitempty"`
	LastUpdatedAt       string         `json:"lastUpdatedAt"`
	Status              catalog.Status `json:"status"`
}

type listRuntimesResponse struct {
	AgentRuntimes []runtimeSummary `json:"agentRuntimes"`
	NextToken     string           `json:"nextToken,omitempty"`
}

type deleteRuntimeResponse struct {
	Status              catalog.Status `json:"status"`
	AgentRuntimeID      string         `json:"agentRuntimeId"`
	AgentRuntimeVersion string         `json:"agentRuntimeVersion,omitempty"`
}

type createEndpointRequest struct {
	Name                string            `json:"name"`
	AgentRuntimeVersion *string           `json:"agentRuntimeVersion,omitempty"`
	Description         *string           `json:"description,omitempty"`
	ClientToken         *string           `json:"clientToken,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
}

type updateEndpointRequest struct {
	AgentRuntimeVersion *string `json:"agentRuntimeVersion,omitempty"`
	Description         *string `json:"description,omitempty"`
	ClientToken         *string `json:"clientToken,omitempty"`
}

type createEndpointResponse struct {
	TargetVersion           string         `json:"targetVersion"`
	AgentRuntimeEndpointArn string         `json:"agentRuntimeEndpointArn"`
	AgentRuntimeArn         string         `json:"agentRuntimeArn"`
	AgentRuntimeID          string         `json:"agentRuntimeId"`
	EndpointName            string         `json:"endpointName"`
	Status                  catalog.Status `json:"status"`
	CreatedAt               string         `json:"createdAt"`
}

type updateEndpointResponse struct {
	LiveVersion             string         `json:"liveVersion,omitempty"`
	TargetVersion           string         `json:"targetVersion,omitempty"`
	AgentRuntimeEndpointArn string         `json:"agentRuntimeEndpointArn"`
	AgentRuntimeArn         string         `json:"agentRuntimeArn"`
	Status                  catalog.Status `json:"status"`
	CreatedAt               string         `json:"createdAt"`
	LastUpdatedAt           string         `json:"lastUpdatedAt"`
}

type endpointResponse struct {
	Name                    string         `json:"name"`
	ID                      string         `json:"id"`
	LiveVersion             string         `json:"liveVersion,omitempty"`
	TargetVersion           string         `json:"targetVersion,omitempty"`
	AgentRuntimeEndpointArn string         `json:"agentRuntimeEndpointArn"`
	AgentRuntimeArn         string         `json:"agentRuntimeArn"`
	Description             *string        `json:"description,omitempty"`
	Status                  catalog.Status `json:"status"`
	FailureReason           string         `json:"failureReason,omitempty"`
	CreatedAt               string         `json:"createdAt"`
	LastUpdatedAt           string         `json:"lastUpdatedAt"`
}

type listEndpointsResponse struct {
	RuntimeEndpoints []endpointResponse `json:"runtimeEndpoints"`
	NextToken        string             `json:"nextToken,omitempty"`
}

type deleteEndpointResponse struct {
	Status         catalog.Status `json:"status"`
	AgentRuntimeID string         `json:"agentRuntimeId"`
	EndpointName   string         `json:"endpointName"`
}

func version(n int) string {
	if n == 0 {
		return ""
	}
	return catalog.FormatVersion(n)
}
