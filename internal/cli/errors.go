package cli

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
)

// friendly rewrites an error from the server or the network into one short line with a
// hint: the SDK's own messages carry request ids and HTTP details nobody needs at a prompt.
func friendly(err error, endpoint string) error {
	if err == nil {
		return nil
	}
	var he hintError
	if errors.As(err, &he) {
		return err
	}
	var op *smithy.OperationError
	name := ""
	if errors.As(err, &op) {
		name = op.OperationName + ": "
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return hintError{fmt.Errorf("%scannot reach a Berth server at %s: connection refused", name, endpoint),
			"start one with 'berth server', or point --endpoint / BERTH_ENDPOINT at yours"}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return hintError{fmt.Errorf("%scannot resolve the server's host: %w", name, dnsErr), "check --endpoint / BERTH_ENDPOINT"}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := fmt.Errorf("%s%s: %s", name, ae.ErrorCode(), ae.ErrorMessage())
		switch ae.ErrorCode() {
		case "AccessDeniedException":
			if strings.Contains(ae.ErrorMessage(), "JWT authorizer") {
				return hintError{msg, "this runtime takes bearer tokens: pass --bearer TOKEN (a JWT its customJWTAuthorizer accepts)"}
			}
			return hintError{msg, "check --credentials, --profile and --region against the server's <data-dir>/credentials and region"}
		case "UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch", "InvalidAccessKeyId":
			return hintError{msg, "check --credentials, --profile and --region against the server's <data-dir>/credentials and region"}
		case "ResourceNotFoundException":
			return hintError{msg, "'berth status' lists the runtimes, 'berth sessions' the live sessions"}
		case "ValidationException":
			return hintError{msg, "fix the value the message names; 'berth <command> --help' shows the flags"}
		case "ConflictException":
			return hintError{msg, "wait for the runtime to become READY ('berth status --name …') and retry"}
		}
		return msg
	}
	return err
}

// isNoSuchBucket reports whether err is S3's NoSuchBucket.
func isNoSuchBucket(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket"
}
