package load

import (
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"berth.dev/berth/bench/stats"
)

// suite is what every scenario needs: the runtime to invoke through Berth and the same agent
// binary running bare.
type suite struct {
	baseURL   string
	arn       string
	creds     aws.Credentials
	agentAddr string
	agentPID  int
	serverPID int
	session   string
	size      Size
	driver    string  // the server's sandbox driver, for labels
	warmAdded float64 // p50 ms Berth adds to a warm invoke, once the warm scenario ran
}

// pair returns fresh, identically configured endpoints to Berth and to the bare agent.
func (s *suite) pair(conns int) (berth, direct *endpoint) {
	return berthEndpoint(s.baseURL, s.arn, s.session, s.creds, conns), directEndpoint(s.agentAddr, s.session, conns)
}

// bare labels the baseline: the agent binary as a plain process.
const bare = "bare process"

// berthLabel labels figures taken through Berth, with the driver: "berth/process".
func (s *suite) berthLabel() string { return "berth/" + s.driver }

// label maps an endpoint name to its label.
func (s *suite) label(name string) string {
	if name == "berth" {
		return s.berthLabel()
	}
	return bare
}

// judge records a target of this driver's server (its name gets the driver); a short run
// records the figure but judges nothing on speed.
func (s *suite) judge(r *stats.Report, name, goal, measured string, met bool, note string) {
	if s.size == Smoke {
		if note != "" {
			note = "; " + note
		}
		r.Judge(targetName(name, s.driver), goal, measured, nil, "short run: not judged"+note)
		return
	}
	r.Judge(targetName(name, s.driver), goal, measured, stats.Bool(met), note)
}

// targetName is a target's name for one driver: "warm overhead (process driver)".
func targetName(name, driver string) string { return name + " (" + driver + " driver)" }

// drain reads the rest of a response body and closes it.
func drain(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	return nil
}
