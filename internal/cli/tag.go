package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/plan"
	"github.com/userdocker/userdocker/internal/refusal"
)

// cmdTag is `tag SOURCE TARGET`: a tag in the caller's own image
// namespace for an image they may run (plan.JudgeTag). The source is
// resolved to its image ID once, and the ID is tagged, so that the image
// tagged is the one that was judged.
func cmdTag(ctx context.Context, a *app, args []string) error {
	fs := subFlags("tag")
	if err := a.parseSub(fs, "tag SOURCE_IMAGE[:TAG] local/"+a.who.Name+"/NAME[:TAG]", args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return refusal.Usagef("\"tag\" requires exactly 2 arguments")
	}
	src, dst, err := plan.JudgeTag(a.pol, a.who.Name, fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	eng, err := a.engine()
	if err != nil {
		return err
	}
	defer eng.Close()
	img, found, err := eng.InspectImage(ctx, src)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("tag: no such image %s on this node", src)
	}
	a.debugf("tag: %s is image %s; tagging it %s", src, img.ID, dst)
	return eng.Tag(ctx, img.ID, dst)
}
