// Package v1alpha1 contains the API of region-operator: Region, the declarative
// description of a county, its townships and their Party branches.
// +kubebuilder:object:generate=true
// +groupName=platform.jiceng.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "platform.jiceng.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// kinds are the objects of this package, each file registering its own.
	kinds []runtime.Object
)

// register records kinds of this package for AddToScheme.
func register(objs ...runtime.Object) { kinds = append(kinds, objs...) }

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, kinds...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
