package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/owned"
	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

// Object types of inspect's --type.
const (
	inspectContainer = "container"
	inspectImage     = "image"
)

// cmdInspect is `inspect [-f FORMAT] [--type container|image] NAME...`:
// what the daemon says about the caller's own containers (resolved among
// them alone, by the ownership label, as every container subcommand does)
// and about images they may run (plan.JudgeInspectImage; by reference, as
// an ID can be anyone's image). Without --type a container of theirs comes
// first, as with docker. All of it is shown: the container is theirs, the
// image one they may run anyway. A --format runs over the JSON as plain
// maps and lists, within the listing's limits, never over the client's
// types and their methods.
func cmdInspect(ctx context.Context, a *app, args []string) error {
	fs := subFlags("inspect")
	format := fs.StringP("format", "f", "", "Format output using a custom template")
	typ := fs.String("type", "", "Only inspect objects of the given type: container or image")
	if err := a.parseSub(fs, "inspect [OPTIONS] NAME|ID [NAME|ID...]", args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return refusal.Usagef("\"inspect\" requires at least 1 argument")
	}
	if *typ != "" && *typ != inspectContainer && *typ != inspectImage {
		return refusal.Usagef("--type %q: only %q and %q can be inspected here", *typ, inspectContainer, inspectImage)
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	var mine []owned.Container
	if *typ != inspectImage {
		if mine, err = a.mine(ctx, eng); err != nil {
			return err
		}
	}
	var found [][]byte
	status := a.eachArg(fs.Args(), func(arg string) (bool, error) {
		raw, refused, err := a.inspectOne(ctx, eng, arg, *typ, mine)
		if err == nil {
			found = append(found, raw)
		}
		return refused, err
	})
	var unreachable *engine.UnreachableError
	if errors.As(status, &unreachable) {
		return status
	}
	if err := a.printInspected(found, *format); err != nil {
		return err
	}
	return status
}

// inspectOne returns the daemon's JSON about what arg names: one of the
// caller's containers, or an image they may run. refused says that the
// error is the answer to a name that is not theirs to inspect.
func (a *app) inspectOne(ctx context.Context, eng *engine.Engine, arg, typ string, mine []owned.Container) (raw json.RawMessage, refused bool, err error) {
	if typ != inspectImage {
		id, err := owned.Resolve(arg, a.owner(), mine)
		if err == nil {
			a.record.Containers = append(a.record.Containers, id)
			raw, err := eng.InspectRaw(ctx, id)
			return raw, false, err
		}
		var ambiguous *owned.AmbiguousError
		if typ == inspectContainer || errors.As(err, &ambiguous) {
			return nil, true, err
		}
	}
	ref, err := plan.JudgeInspectImage(a.pol, a.who.Name, arg)
	if err != nil {
		if typ == "" {
			err = fmt.Errorf("no container or image %s of yours: inspect shows your containers and the images you may run", arg)
		}
		return nil, true, err
	}
	raw, ok, err := eng.InspectImageRaw(ctx, ref)
	if err == nil && !ok {
		err = fmt.Errorf("no image %s on this node", ref)
	}
	return raw, false, err
}

// printInspected prints what was found as docker inspect does: a JSON
// array indented by four spaces, or format once per object.
func (a *app) printInspected(found [][]byte, format string) error {
	if format == "" {
		if len(found) == 0 {
			_, err := io.WriteString(a.env.Stdout, "[]\n")
			return err
		}
		var b bytes.Buffer
		if err := json.Indent(&b, append(append([]byte("["), bytes.Join(found, []byte(","))...), ']'), "", "    "); err != nil {
			return fmt.Errorf("inspect: the daemon's answer is not JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err := a.env.Stdout.Write(b.Bytes())
		return err
	}
	rows := make([]any, len(found))
	for i, raw := range found {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // sizes and limits print as docker prints them, not as 2.68435456e+08
		if err := dec.Decode(&rows[i]); err != nil {
			return fmt.Errorf("inspect: the daemon's answer is not JSON: %w", err)
		}
	}
	return a.list(format, "", nil, rows)
}
