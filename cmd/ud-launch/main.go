// Command ud-launch is installed as userdocker, the program sudo starts.
// It is linked without a C library (CGO_ENABLED=0), so no dynamic loader
// runs in it, and it execs the real userdocker with only the variables
// userdocker reads (internal/launch): whatever the sudoers rule lets a
// caller put in the environment, LD_PRELOAD included, never reaches the
// loader of a program running as root.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/userdocker/userdocker/internal/launch"
)

// target is the real userdocker, set at link time from the Makefile's
// PREFIX; never from the environment.
var target = "/usr/local/libexec/userdocker/userdocker"

func main() {
	err := syscall.Exec(target, os.Args, launch.Env(os.Environ()))
	fmt.Fprintf(os.Stderr, "userdocker: start %s: %v\n", target, err)
	os.Exit(125)
}
