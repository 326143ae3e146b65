// Command userdocker lets users run Docker containers within the site's
// policy. Users call it through sudo; see userdocker(1).
package main

import (
	"context"
	"os"

	"github.com/userdocker/userdocker/internal/alloc"
	"github.com/userdocker/userdocker/internal/audit"
	"github.com/userdocker/userdocker/internal/caller"
	"github.com/userdocker/userdocker/internal/cli"
	"github.com/userdocker/userdocker/internal/gather"
	"github.com/userdocker/userdocker/internal/policy"
	"github.com/userdocker/userdocker/internal/shortlived"
	"github.com/userdocker/userdocker/internal/slurmhook"
	"github.com/userdocker/userdocker/internal/sudoers"
)

func main() {
	shortlived.Tune()
	os.Exit(cli.Main(context.Background(), cli.Env{
		Args:           os.Args[1:],
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		UID:            os.Getuid(),
		Proc:           caller.SystemProc(),
		Lookup:         os.LookupEnv,
		Environ:        os.Environ,
		Users:          caller.System{},
		ConfigPath:     policy.DefaultPath,
		AuditFallback:  audit.FallbackFile,
		Sudoers:        sudoers.Read,
		SlurmConfPaths: slurmhook.SlurmConfPaths,
		CheckDaemon:    true,
		NodeGPUs:       gather.NodeGPUs,
		CgroupRoot:     alloc.DefaultCgroupRoot,
		Program:        os.Args[0],
	}))
}
