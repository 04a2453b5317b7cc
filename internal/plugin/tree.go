package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
)

// Tree is a county as `kubectl region tree` shows it: the spec's hierarchy with what
// the status says of each part.
type Tree struct {
	Name               string                      `json:"name"`
	DisplayName        string                      `json:"displayName"`
	Code               string                      `json:"code"`
	Ready              bool                        `json:"ready"`
	Reason             string                      `json:"reason,omitempty"`
	Message            string                      `json:"message,omitempty"`
	Database           *platformv1.DatabaseStatus  `json:"database,omitempty"`
	Platform           *platformv1.PlatformStatus  `json:"platform,omitempty"`
	Townships          []TreeTownship              `json:"townships"`
	Retained           []platformv1.RetainedObject `json:"retained,omitempty"`
	PendingDestruction []string                    `json:"pendingDestruction,omitempty"`
}

// TreeTownship is one township of a Tree.
type TreeTownship struct {
	Name        string                      `json:"name"`
	DisplayName string                      `json:"displayName"`
	Code        string                      `json:"code"`
	Class       string                      `json:"class,omitempty"`
	Ready       bool                        `json:"ready"`
	Namespace   string                      `json:"namespace"`
	Schema      string                      `json:"schema,omitempty"`
	Role        string                      `json:"role,omitempty"`
	Message     string                      `json:"message,omitempty"`
	Formerly    []platformv1.FormerTownship `json:"formerly,omitempty"`
	Branches    []desired.DirectoryBranch   `json:"branches"`
}

// BuildTree is the tree of a Region, from its spec and status alone.
func BuildTree(rg *platformv1.Region) Tree {
	t := Tree{Name: rg.Name, DisplayName: rg.Spec.DisplayName, Code: rg.Spec.Code, Database: rg.Status.Database,
		Platform: rg.Status.Platform, Retained: rg.Status.Retained, PendingDestruction: rg.Status.PendingDestruction}
	if c := meta.FindStatusCondition(rg.Status.Conditions, controllers.ConditionReady); c != nil {
		t.Ready = c.Status == metav1.ConditionTrue && rg.Status.ObservedGeneration == rg.Generation
		t.Reason, t.Message = c.Reason, c.Message
	}
	rows := map[string]platformv1.TownshipStatus{}
	for _, r := range rg.Status.Townships {
		rows[r.Name] = r
	}
	dir := desired.BuildDirectory(rg)
	for i, tw := range rg.Spec.Townships {
		row := rows[tw.Name]
		d := dir.Townships[i]
		t.Townships = append(t.Townships, TreeTownship{Name: tw.Name, DisplayName: tw.DisplayName, Code: tw.Code, Class: d.Class,
			Ready: row.Ready, Namespace: d.Namespace, Schema: row.Schema, Role: row.Role, Message: row.Message,
			Formerly: tw.Formerly, Branches: d.Branches})
	}
	return t
}

// printOutput writes v as JSON or YAML.
func printOutput(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	return fmt.Errorf("-o %s: the output formats are json and yaml", format)
}

// WriteTree writes a county → townships → branches tree; colour marks readiness.
func WriteTree(w io.Writer, t Tree, colour bool) {
	state := paint(colour, "green", "Ready")
	if !t.Ready {
		state = paint(colour, "red", "Not ready") + " (" + t.Reason + ")"
	}
	fmt.Fprintf(w, "%s %s (code %s) — %s: %s\n", paint(colour, "bold", t.DisplayName), t.Name, t.Code, state, t.Message)
	var layers []string
	if t.Database != nil {
		db := fmt.Sprintf("database %s on %s", t.Database.Name, t.Database.Server)
		if t.Database.LastRotationTime != nil {
			db += ", last rotated " + t.Database.LastRotationTime.UTC().Format("2006-01-02 15:04:05Z")
		}
		layers = append(layers, db)
	}
	if t.Platform != nil {
		layers = append(layers, fmt.Sprintf("platform %d/%d Deployments available, %d objects", t.Platform.Available, t.Platform.Deployments, t.Platform.Objects))
	}
	if len(layers) > 0 {
		fmt.Fprintf(w, "│  %s\n", strings.Join(layers, " · "))
	}
	for i, tw := range t.Townships {
		branch, pipe := "├─", "│ "
		if i == len(t.Townships)-1 {
			branch, pipe = "└─", "  "
		}
		state := paint(colour, "green", "ready")
		if !tw.Ready {
			state = paint(colour, "red", "NOT READY")
		}
		code := tw.Code
		if tw.Class != "" {
			code += ", " + tw.Class
		}
		fmt.Fprintf(w, "%s %s %s (%s) — %s\n", branch, tw.DisplayName, tw.Name, code, state)
		parts := []string{"namespace " + tw.Namespace}
		if tw.Schema != "" {
			parts = append(parts, "schema "+tw.Schema, "role "+tw.Role)
		}
		fmt.Fprintf(w, "%s   %s\n", pipe, strings.Join(parts, " · "))
		for _, f := range tw.Formerly {
			fmt.Fprintf(w, "%s   formerly %s (%s)\n", pipe, f.Name, f.Code)
		}
		if tw.Message != "" {
			fmt.Fprintf(w, "%s   %s %s\n", pipe, paint(colour, "yellow", "!"), tw.Message)
		}
		for j, b := range tw.Branches {
			bb := "├─"
			if j == len(tw.Branches)-1 {
				bb = "└─"
			}
			code := ""
			if b.Code != "" {
				code = " " + b.Code
			}
			fmt.Fprintf(w, "%s   %s %s %s [%s%s] %d members (%s)\n", pipe, bb, b.DisplayName, b.Name, b.Kind, code, b.Members, b.Form)
		}
	}
	if len(t.Retained) > 0 {
		var kept []string
		for _, r := range t.Retained {
			s := r.Kind + " " + r.Name
			if r.Township != "" {
				s += " (" + r.Township + ")"
			}
			kept = append(kept, s)
		}
		fmt.Fprintf(w, "retained: %s\n", strings.Join(kept, ", "))
	}
	if len(t.PendingDestruction) > 0 {
		fmt.Fprintf(w, "%s %s\n", paint(colour, "red", "waiting for confirmation:"), strings.Join(t.PendingDestruction, ", "))
	}
}

func newTreeCommand(o *Options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "tree [NAME]",
		Short: "Show a county: townships, branches, readiness, namespaces, schemas and roles, warnings, what is retained",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			var regions []platformv1.Region
			if len(args) == 1 {
				rg := platformv1.Region{}
				if err := c.Get(cmd.Context(), client.ObjectKey{Name: args[0]}, &rg); err != nil {
					return err
				}
				regions = append(regions, rg)
			} else {
				var list platformv1.RegionList
				if err := c.List(context.WithoutCancel(cmd.Context()), &list); err != nil {
					return err
				}
				regions = list.Items
			}
			var trees []Tree
			for i := range regions {
				trees = append(trees, BuildTree(&regions[i]))
			}
			if output != "" {
				if len(args) == 1 {
					return printOutput(o.Out, output, trees[0])
				}
				return printOutput(o.Out, output, trees)
			}
			for i, t := range trees {
				if i > 0 {
					fmt.Fprintln(o.Out)
				}
				WriteTree(o.Out, t, o.colour())
			}
			if len(trees) == 0 {
				fmt.Fprintln(o.ErrOut, "No Regions found.")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	return cmd
}
