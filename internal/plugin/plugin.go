// Package plugin is `kubectl region`: it shows a county as a tree, plans a change with
// the SQL it will run before it runs, and operates a Region (status, rotate, confirm,
// psql). Every plan comes from the desired-state package the operator itself runs.
package plugin

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/controllers"
)

// Exit codes, as kubectl diff and Terraform's -detailed-exitcode use them.
const (
	ExitNoChange = 0
	ExitChanges  = 1
	ExitError    = 2
)

// ExitError carries the process's exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the exit code a command's error calls for: ExitError for any error but
// the "changes" outcome of plan.
func ExitCode(err error) int {
	if err == nil {
		return ExitNoChange
	}
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return ExitError
}

// Options are what every command shares: the kubeconfig flags kubectl plugins take, and
// where output goes.
type Options struct {
	Flags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	// Color forces colour on or off; nil decides by whether Out is a terminal.
	Color *bool
	// newClient makes the client; tests replace it.
	newClient func() (client.Client, error)
}

// NewOptions are the options of a command writing to streams.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	o := &Options{Flags: genericclioptions.NewConfigFlags(true), IOStreams: streams}
	o.newClient = func() (client.Client, error) {
		cfg, err := o.Flags.ToRESTConfig()
		if err != nil {
			return nil, err
		}
		// A plan reads and dry-runs every object of a county: kubectl's own limits,
		// not client-go's default of 5 requests a second.
		if cfg.QPS == 0 {
			cfg.QPS, cfg.Burst = 50, 300
		}
		return client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
	}
	return o
}

// Client is a client of the cluster the flags name.
func (o *Options) Client() (client.Client, error) { return o.newClient() }

// colour says whether to colour the output.
func (o *Options) colour() bool {
	if o.Color != nil {
		return *o.Color
	}
	f, ok := o.Out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
}

// NewCommand is `kubectl region` with its subcommands.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "kubectl-region",
		Short: "See a county, plan a change with its SQL before it runs, and operate it",
		Long: `kubectl region works with the Regions of region-operator: a county, its townships
and their Party branches, made into namespaces, access policies, databases and the
governance platform.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl region"},
	}
	o.Flags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(newTreeCommand(o), newStatusCommand(o), newPlanCommand(o), newRotateCommand(o), newConfirmCommand(o), newPsqlCommand(o))
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetIn(streams.In)
	return cmd
}

// Main runs the command with the process's arguments and streams and returns the exit
// code.
func Main(args []string) int {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil && ExitCode(err) == ExitError {
		fmt.Fprintln(streams.ErrOut, "error:", err)
	}
	return ExitCode(err)
}

// paint wraps s in an ANSI colour when colours are on.
func paint(on bool, colour, s string) string {
	if !on {
		return s
	}
	codes := map[string]string{"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}
	return "\x1b[" + codes[colour] + "m" + s + "\x1b[0m"
}

var _ io.Writer = os.Stdout
