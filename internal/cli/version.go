package cli

import (
	"context"
	"fmt"

	"github.com/userdocker/userdocker/internal/engine"
	"github.com/userdocker/userdocker/internal/refusal"
)

func cmdVersion(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return refusal.Usagef("\"version\" accepts no arguments")
	}
	fmt.Fprintf(a.env.Stdout, "userdocker: %s\n", Version)
	eng, err := engine.New(a.pol.DockerHost)
	if err != nil {
		return err
	}
	defer eng.Close()
	v, err := eng.ServerVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "Docker Engine: %s (API %s, %s/%s)\n", v.Version, v.APIVersion, v.Os, v.Arch)
	return nil
}
