package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/spf13/pflag"

	"github.com/userdocker/userdocker/internal/label"
	"github.com/userdocker/userdocker/internal/listing"
	"github.com/userdocker/userdocker/internal/owned"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

// psOptions are ps's flags.
type psOptions struct {
	all, quiet, noTrunc, allUsers, digests bool
	filters                                []string
	format                                 string
	gpu                                    psGPUOptions
}

// psFlags declares ps's flags, all in this one place, so that more
// (the GPU views) can be added here.
func psFlags(fs *pflag.FlagSet, o *psOptions) {
	fs.BoolVarP(&o.all, "all", "a", false, "Show all your containers (default shows just running)")
	fs.StringArrayVarP(&o.filters, "filter", "f", nil, "Filter output based on conditions provided")
	fs.StringVar(&o.format, "format", "", "Format output using a custom template ('table', 'table TEMPLATE' or a Go template over .ID .Image .Digest .Command .CreatedAt .RunningFor .Status .State .Ports .Names .User .Job .GPUs .Labels)")
	fs.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "Only display container IDs")
	fs.BoolVar(&o.digests, "digests", false, "Show the digest of the image each container runs")
	fs.BoolVar(&o.allUsers, "all-users", false, "Show every user's containers (root only)")
	psGPUFlags(fs, &o.gpu)
}

func cmdPs(ctx context.Context, a *app, args []string) error {
	fs := subFlags("ps")
	var o psOptions
	psFlags(fs, &o)
	if err := a.parseSub(fs, "ps [OPTIONS]", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return refusal.Usagef("\"ps\" accepts no arguments")
	}
	if o.gpu != (psGPUOptions{}) {
		return a.psGPU(ctx, o.gpu)
	}
	if err := plan.CheckAllUsers(o.allUsers, a.who.Root); err != nil {
		return err
	}
	f, err := parseFilters(o.filters)
	if err != nil {
		return err
	}
	if !o.allUsers {
		f.Add("label", a.ownFilter().Get("label")[0])
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	list, err := eng.Containers(ctx, container.ListOptions{All: o.all, Filters: f})
	if err != nil {
		return err
	}
	var rows []any
	now := time.Now()
	for _, c := range list {
		if !o.allUsers && !owned.IsMine(a.owner(), c.Labels[label.UID]) {
			continue // the daemon's filter is not all we rely on
		}
		r := listing.Container(c, now, o.noTrunc)
		if o.quiet {
			fmt.Fprintln(a.env.Stdout, r.ID)
			continue
		}
		rows = append(rows, r)
	}
	if o.quiet {
		return nil
	}
	table := listing.ContainerTable
	if o.digests {
		table = listing.ContainerDigestTable
	}
	return a.list(o.format, table, listing.ContainerHeaders, rows)
}

// list writes rows as listing.Write does. A --format past its limits is
// refused, and the audit record says so.
func (a *app) list(format, def string, headers map[string]string, rows []any) error {
	err := listing.Write(a.env.Stdout, format, def, headers, rows)
	var limit *listing.LimitError
	if errors.As(err, &limit) {
		return a.refuse(err)
	}
	return err
}

// parseFilters turns --filter NAME=VALUE flags into the daemon's filters,
// which checks the names and values itself.
func parseFilters(specs []string) (filters.Args, error) {
	f := filters.NewArgs()
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return f, refusal.Usagef("--filter %q: bad format of filter (expected name=value)", s)
		}
		f.Add(strings.ToLower(strings.TrimSpace(k)), v)
	}
	return f, nil
}
