package plugin

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

func newRotateCommand(o *Options) *cobra.Command {
	var token string
	cmd := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Rotate every database password of a Region (sets platform.jiceng.io/rotate-credentials)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			if token == "" {
				token = time.Now().UTC().Format("20060102T150405Z")
			}
			rg := &platformv1.Region{}
			if err := c.Get(cmd.Context(), client.ObjectKey{Name: args[0]}, rg); err != nil {
				return err
			}
			if rg.Annotations[naming.AnnotationRotateCredentials] == token {
				return fmt.Errorf("the Region %s asked for rotation %s already; give another --token for new passwords", rg.Name, token)
			}
			if err := patchAnnotation(cmd, c, rg, naming.AnnotationRotateCredentials, token); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "Region %s: rotation %s asked for; status.database.rotationToken says %s once every password is new\n", args[0], token, token)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "the rotation's token (default: the current time)")
	return cmd
}

// patchAnnotation sets one annotation of an object with a merge patch.
func patchAnnotation(cmd *cobra.Command, c client.Client, obj client.Object, key, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if err != nil {
		return err
	}
	return c.Patch(cmd.Context(), obj, client.RawPatch(types.MergePatchType, patch))
}

func newConfirmCommand(o *Options) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "confirm NAME TOWNSHIP...",
		Short: "Confirm the destruction a Region waits for (the townships it lists, or NAME itself for its deletion)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			rg := &platformv1.Region{}
			if err := c.Get(cmd.Context(), client.ObjectKey{Name: args[0]}, rg); err != nil {
				return err
			}
			names := args[1:]
			for _, n := range names {
				if !slices.Contains(rg.Status.PendingDestruction, n) {
					return fmt.Errorf("%s is not waiting for confirmation (status.pendingDestruction: %s)", n, orNothing(rg.Status.PendingDestruction))
				}
				// The Region's own name in the annotation confirms its deletion: only a
				// Region being deleted is confirmed by it.
				if n == rg.Name && rg.DeletionTimestamp == nil {
					return fmt.Errorf("%s names both the Region and one of its townships: confirming the township would confirm the Region's deletion too; write the annotation %s yourself if you mean both",
						n, naming.AnnotationConfirmDestruction)
				}
			}
			fmt.Fprintf(o.Out, "Confirming destroys, under deletionPolicy %s:\n", policy(rg))
			for _, n := range names {
				if n == rg.Name {
					fmt.Fprintf(o.Out, "  the Region %s: every namespace of it, database %s and its roles\n", rg.Name, naming.Database(rg.Name))
					continue
				}
				line := "  township " + n + ": namespace " + naming.TownshipNamespace(rg.Name, n)
				if rg.Spec.Database != nil {
					line += ", schema " + naming.TownshipSchema(n) + " with its data, role " + naming.TownshipRole(rg.Name, n)
				}
				fmt.Fprintln(o.Out, line)
			}
			if !yes {
				fmt.Fprint(o.Out, "Destroy them? [y/N] ")
				answer, _ := bufio.NewReader(o.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					fmt.Fprintln(o.Out, "Nothing confirmed.")
					return nil
				}
			}
			value := strings.Join(names, ",")
			if err := patchAnnotation(cmd, c, rg, naming.AnnotationConfirmDestruction, value); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "Region %s annotated %s=%s\n", rg.Name, naming.AnnotationConfirmDestruction, value)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask")
	return cmd
}

func orHub(township string) string {
	if township == "" {
		return "hub"
	}
	return "township " + township
}

func orNothing(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

func newPsqlCommand(o *Options) *cobra.Command {
	var psql string
	cmd := &cobra.Command{
		Use:   "psql NAME TOWNSHIP [-- PSQL-ARGS...]",
		Short: "Run psql as a township (or county, the hub) with its namespace's database Secret; your RBAC decides whether you may read it",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rg := &platformv1.Region{}
			if err := c.Get(ctx, client.ObjectKey{Name: args[0]}, rg); err != nil {
				return err
			}
			township := args[1]
			ns := naming.HubNamespace(rg.Name)
			if township == "county" {
				township = ""
			} else {
				if !slices.ContainsFunc(rg.Spec.Townships, func(t platformv1.Township) bool { return t.Name == township }) {
					return fmt.Errorf("the Region %s has no township %s (or county, for the hub)", rg.Name, township)
				}
				ns = naming.TownshipNamespace(rg.Name, township)
			}
			// Derived names meet (Region foo's township bar and Region foo-bar's hub
			// share foo-bar): the namespace and its Secret must be this Region's.
			namespace := &corev1.Namespace{}
			if err := c.Get(ctx, client.ObjectKey{Name: ns}, namespace); err != nil {
				return fmt.Errorf("reading namespace %s: %w", ns, err)
			}
			if !desired.OwnsNamespace(rg, namespace) || namespace.Labels[naming.LabelRegion] != rg.Name || namespace.Labels[naming.LabelTownship] != township {
				return fmt.Errorf("namespace %s is not Region %s's %s", ns, rg.Name, orHub(township))
			}
			s := &corev1.Secret{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.SecretDatabase}, s); err != nil {
				return fmt.Errorf("reading Secret %s/%s: %w", ns, naming.SecretDatabase, err)
			}
			if s.Labels[naming.LabelRegion] != rg.Name {
				return fmt.Errorf("the Secret %s/%s is not Region %s's", ns, naming.SecretDatabase, rg.Name)
			}
			// Only the Secret's connection: none of the caller's own PG* settings (a
			// PGHOSTADDR would send the password elsewhere), and SCRAM required.
			var env []string
			for _, e := range os.Environ() {
				if !strings.HasPrefix(e, "PG") {
					env = append(env, e)
				}
			}
			env = append(env,
				"PGHOST="+string(s.Data["host"]), "PGPORT="+string(s.Data["port"]), "PGDATABASE="+string(s.Data["dbname"]),
				"PGUSER="+string(s.Data["user"]), "PGPASSWORD="+string(s.Data["password"]), "PGREQUIREAUTH=scram-sha-256")
			if mode := string(s.Data["sslmode"]); mode != "" {
				env = append(env, "PGSSLMODE="+mode)
			}
			if ca := s.Data["ca.crt"]; len(ca) > 0 {
				f, err := os.CreateTemp("", "region-ca-*.crt")
				if err != nil {
					return err
				}
				defer os.Remove(f.Name())
				if _, err := f.Write(ca); err != nil {
					return err
				}
				_ = f.Close()
				env = append(env, "PGSSLROOTCERT="+f.Name())
			}
			run := exec.CommandContext(ctx, psql, args[2:]...)
			run.Env, run.Stdin, run.Stdout, run.Stderr = env, o.In, o.Out, o.ErrOut
			// Ctrl-C is psql's (it cancels the query), not a reason for the plugin to
			// leave psql behind.
			signal.Ignore(os.Interrupt)
			defer signal.Reset(os.Interrupt)
			if err := run.Run(); err != nil {
				if ee, ok := err.(*exec.ExitError); ok {
					code := ee.ExitCode()
					if code < 0 {
						code = ExitError // ended by a signal
					}
					return &exitError{code: code, err: fmt.Errorf("psql: %w", err)}
				}
				return fmt.Errorf("running %s: %w", psql, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&psql, "psql", "psql", "the psql binary")
	return cmd
}
