package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/userdocker/userdocker/internal/listing"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdImages(ctx context.Context, a *app, args []string) error {
	fs := subFlags("images")
	all := fs.BoolP("all", "a", false, "Show all images (default hides intermediate images)")
	digests := fs.Bool("digests", false, "Show digests")
	filterSpecs := fs.StringArrayP("filter", "f", nil, "Filter output based on conditions provided")
	format := fs.String("format", "", "Format output using a custom template ('table', 'table TEMPLATE' or a Go template over .ID .Repository .Tag .Digest .CreatedSince .CreatedAt .Size .Containers .Labels)")
	noTrunc := fs.Bool("no-trunc", false, "Don't truncate output")
	quiet := fs.BoolP("quiet", "q", false, "Only show image IDs")
	tree := fs.Bool("tree", false, "Show the images as a tree of parent/child chains")
	if err := a.parseSub(fs, "images [OPTIONS] [REPOSITORY[:TAG]]", args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return refusal.Usagef("\"images\" accepts at most 1 argument")
	}
	if *tree && (*quiet || *format != "" || *digests) {
		return refusal.Usagef("conflicting options: --tree cannot be combined with -q, --format or --digests")
	}
	f, err := parseFilters(*filterSpecs)
	if err != nil {
		return err
	}
	if fs.NArg() == 1 {
		f.Add("reference", fs.Arg(0))
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Images(ctx, image.ListOptions{All: *all || *tree, Filters: f})
	if err != nil {
		return err
	}
	// Others' images of their own are theirs to see.
	list = plan.OthersHidden(list, a.who.Name)
	if *tree {
		listing.Tree(a.env.Stdout, list)
		return nil
	}
	rows := listing.Images(list, time.Now(), *noTrunc)
	if *quiet {
		var seen []string
		for _, r := range rows {
			if !slices.Contains(seen, r.ID) {
				seen = append(seen, r.ID)
				fmt.Fprintln(a.env.Stdout, r.ID)
			}
		}
		return nil
	}
	def := listing.ImageTable
	if *digests {
		def = listing.ImageDigestTable
	}
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return a.list(*format, def, listing.ImageHeaders, out)
}
