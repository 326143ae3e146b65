package runflags

import "github.com/spf13/pflag"

// FlagUsages is pflag's FlagUsages for any subcommand's flag set, with
// boolean flags shown as docker shows them ("--all", not
// "--all[=true|false]"), and hidden flags left out.
func FlagUsages(fs *pflag.FlagSet) string {
	out := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	out.SortFlags = fs.SortFlags
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		g := *f
		g.Value = shown{f.Value}
		out.AddFlag(&g)
	})
	return out.FlagUsages()
}
