package localenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// AdmissionObjects are the objects of config/admission: the MutatingAdmissionPolicy that
// gives new Regions the operator's finalizer and its binding first, then the
// ValidatingAdmissionPolicies that keep the operator's objects and a Region's finalizer
// the operator's, and their bindings.
func (e *Env) AdmissionObjects() ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, file := range []string{"finalizer.yaml", "protect.yaml"} {
		data, err := os.ReadFile(filepath.Join(e.Root, "config", "admission", file))
		if err != nil {
			return nil, err
		}
		objs := Objects(data)
		if len(objs) == 0 {
			return nil, fmt.Errorf("config/admission/%s holds no objects", file)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// Objects splits a stream of YAML (or JSON) documents into objects.
func Objects(stream []byte) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			return out
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// installAdmission installs config/admission, as config/default and the chart do, and
// waits until the API server applies it.
func (e *Env) installAdmission(ctx context.Context, c client.Client) error {
	objs, err := e.AdmissionObjects()
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("installing %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return WaitFinalizerPolicy(ctx, c, true)
}

// WaitFinalizerPolicy waits until a new Region gets the operator's finalizer as it is
// created (in effect) or no longer does: the API server sees its admission policies a
// moment after they change.
func WaitFinalizerPolicy(ctx context.Context, c client.Client, inEffect bool) error {
	probe := func() (bool, error) {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(platformv1.GroupVersion.String())
		u.SetKind("Region")
		u.SetName("admission-probe")
		u.Object["spec"] = map[string]any{"displayName": "探测", "code": "110000"}
		if err := c.Create(ctx, u, client.DryRunAll); err != nil {
			return false, err
		}
		return slices.Contains(u.GetFinalizers(), naming.Finalizer), nil
	}
	// Errors too are waited out: the CRD itself may not be served yet.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := probe()
		if err == nil && got == inEffect {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("probing the finalizer policy: %w", err)
			}
			return fmt.Errorf("the finalizer policy in effect is %v after 30s, want %v", got, inEffect)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
