package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
)

func newPushCmd(g *globals, stdout io.Writer) *cobra.Command {
	var tag string
	cmd := &cobra.Command{
		Use:   "push IMAGE_OR_ARCHIVE [--tag REPO:TAG]",
		Short: "Push an image to the server's built-in registry and print the reference to deploy",
		Long: `Push an image to the Berth server's built-in OCI registry (the /v2/ API on the server's
host and port, logged in with the access key), and print the reference to deploy it with.

IMAGE_OR_ARCHIVE is an OCI image layout directory (for an index, the image for this
machine's platform), a docker-archive tarball ('docker save' with one image), or a
reference to an image in another registry, pulled with your Docker credentials
(~/.docker/config.json).

Without --tag, an archive goes to agents/<project name, else the file name>:<time> and a
pulled image keeps its repository path and tag.`,
		Example: `  berth push ./oci-layout
  berth push agent.tar --tag agents/web:v1
  berth push ghcr.io/acme/agent:1.2 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			prog := newProgress(stdout)
			res, err := push(cmd.Context(), a, args[0], tag, prog)
			prog.clear()
			if err != nil {
				return friendly(err, a.endpoint)
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			fmt.Fprintf(stdout, "Pushed %s (%s)\n", res.Reference, res.Digest)
			fmt.Fprintf(stdout, "Deploy it with: berth deploy --image %s\n", res.Reference)
			return nil
		},
	}
	cmd.Flags().StringVar(&tag, "tag", "", "repository and tag in the built-in registry (REPO:TAG, or REPO for a new tag)")
	return cmd
}

// push loads or pulls src and pushes it to the built-in registry.
func push(ctx context.Context, a *api, src, tag string, prog *progress) (pushed, error) {
	var img v1.Image
	repo, t := "", ""
	if _, err := os.Stat(src); err == nil {
		prog.step("Reading %s", src)
		if img, err = loadArchive(src); err != nil {
			return pushed{}, err
		}
		base := strings.TrimSuffix(filepath.Base(filepath.Clean(src)), filepath.Ext(src))
		if p, ok, _ := loadProject(); ok {
			base = p.Name
		}
		repo, t = repoName(base), newTag()
	} else {
		ref, perr := name.ParseReference(src)
		if perr != nil {
			return pushed{}, hintError{fmt.Errorf("%s is neither a file nor an image reference: %w", src, errors.Join(err, perr)),
				"give an OCI layout directory, a docker-archive tarball or an image reference"}
		}
		prog.step("Pulling %s", ref)
		if img, err = remote.Image(ref, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx)); err != nil {
			return pushed{}, hintError{fmt.Errorf("%s is no file here, and pulling it as %s failed: %w", src, ref.Name(), err),
				"give an OCI layout directory, a docker-archive tarball, or a reference to a registry this machine reaches"}
		}
		repo = ref.Context().RepositoryStr()
		t = "latest"
		if tg, ok := ref.(name.Tag); ok {
			t = tg.TagStr()
		}
	}
	if tag != "" {
		r, tg, ok := strings.Cut(tag, ":")
		repo = r
		if ok {
			t = tg
		}
	}
	return a.pushImage(ctx, img, repo, t, prog)
}
