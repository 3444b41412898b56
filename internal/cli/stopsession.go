package cli

import (
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	data "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/spf13/cobra"
)

func newStopSessionCmd(g *globals, stdout io.Writer) *cobra.Command {
	var name, arn, session, qualifier string
	cmd := &cobra.Command{
		Use:   "stop-session [--name NAME | --arn ARN] [--session ID]",
		Short: "Stop the session invoke last used here (or --session), and forget it",
		Long: `Stop a runtime session (StopRuntimeSession): its sandbox is stopped and wiped, and the
next invoke starts a new one. Without --session, it is the session 'berth invoke' last
used with the runtime from this directory, as the starter toolkit's stop-session does;
that session is then forgotten. 'berth sessions stop ID' stops any session by id.`,
		Example: `  berth stop-session
  berth stop-session --name hello --session 4f0c…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			arn, err := runtimeARN(ctx, a, name, arn, "berth stop-session --name my_agent")
			if err != nil {
				return friendly(err, a.endpoint)
			}
			st, err := loadState()
			if err != nil {
				return err
			}
			sid := session
			if sid == "" {
				if sid = st.Sessions[arn]; sid == "" {
					return hintError{fmt.Errorf("no session of %s is remembered here", arn), "pass --session, or see 'berth sessions'"}
				}
			}
			in := &data.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(sid)}
			if qualifier != "" {
				in.Qualifier = aws.String(qualifier)
			}
			if _, err := a.data.StopRuntimeSession(ctx, in); err != nil {
				return friendly(err, a.endpoint)
			}
			if st.Sessions[arn] == sid {
				delete(st.Sessions, arn)
				if err := st.save(); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(stdout, struct {
					ARN     string `json:"agentRuntimeArn"`
					Session string `json:"runtimeSessionId"`
				}{arn, sid})
			}
			fmt.Fprintf(stdout, "Stopped session %s\n", sid)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "agent runtime name (default: .berth.yaml's)")
	fl.StringVar(&arn, "arn", "", "agent runtime ARN (instead of --name)")
	fl.StringVarP(&session, "session", "s", "", "runtime session id (default: the one invoke last used here)")
	fl.StringVar(&qualifier, "qualifier", "", "endpoint the session belongs to (default DEFAULT)")
	return cmd
}
