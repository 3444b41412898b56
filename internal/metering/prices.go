package metering

// Prices are what one unit of billable usage costs, in US dollars.
type Prices struct {
	CPUPerVCPUHour  float64 // per vCPU-hour
	MemoryPerGBHour float64 // per GB-hour (1 GB = 1 GiB)
}

// DefaultPrices are AgentCore Runtime's published list prices (AGENTCORE-WIRE.md §7.4).
var DefaultPrices = Prices{CPUPerVCPUHour: 0.0895, MemoryPerGBHour: 0.00945}

// Cost is the price of vcpuSeconds of CPU and gbSeconds of memory.
func (p Prices) Cost(vcpuSeconds, gbSeconds float64) (cpu, memory float64) {
	return vcpuSeconds / 3600 * p.CPUPerVCPUHour, gbSeconds / 3600 * p.MemoryPerGBHour
}
