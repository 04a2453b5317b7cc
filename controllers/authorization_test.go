package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// allowed asks the API server's own authorizer whether a member of group may do verb on
// resource in namespace.
func allowed(g Gomega, group, verb, resource, namespace string) bool {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "someone",
		Groups: []string{group, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Verb: verb, Resource: resource,
		},
	}}
	g.Expect(k8s.Create(context.Background(), sar)).To(Succeed())
	return sar.Status.Allowed
}

// The RoleBindings grant what the spec says, as the API server's authorizer sees it.
func TestRoleBindingsGrantWhatTheSpecSays(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("authz")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	fengcheng, hutou := name+"-fengcheng", name+"-hutou"
	townshipAdmins := name + "-fengcheng-admins"
	supervisors := name + "-discipline"
	admins := name + "-admins"

	// The authorizer learns of new RoleBindings through its own watch; wait until it
	// has seen the Region's last one before asking anything else.
	g.Eventually(func(g Gomega) bool { return allowed(g, supervisors, "get", "pods", hutou) }, timeout, interval).Should(BeTrue())
	g.Eventually(func(g Gomega) bool { return allowed(g, admins, "get", "secrets", hutou) }, timeout, interval).Should(BeTrue())
	g.Eventually(func(g Gomega) bool { return allowed(g, name+"-hutou-admins", "get", "secrets", hutou) }, timeout, interval).Should(BeTrue())

	// A township admin reads Secrets in its own namespace, and nowhere else.
	g.Expect(allowed(g, townshipAdmins, "get", "secrets", fengcheng)).To(BeTrue())
	g.Expect(allowed(g, townshipAdmins, "create", "configmaps", fengcheng)).To(BeTrue())
	g.Expect(allowed(g, townshipAdmins, "get", "secrets", hutou)).To(BeFalse(), "a sibling township is out of reach")
	g.Expect(allowed(g, townshipAdmins, "get", "secrets", name)).To(BeFalse(), "the county hub is out of reach")

	// A supervisor reads everywhere and writes nowhere.
	for _, ns := range []string{name, fengcheng, hutou} {
		g.Expect(allowed(g, supervisors, "list", "configmaps", ns)).To(BeTrue(), ns)
		g.Expect(allowed(g, supervisors, "get", "pods", ns)).To(BeTrue(), ns)
		g.Expect(allowed(g, supervisors, "create", "configmaps", ns)).To(BeFalse(), ns)
		g.Expect(allowed(g, supervisors, "delete", "pods", ns)).To(BeFalse(), ns)
	}

	// Region admins are admin in every namespace of the Region, and of no other Region.
	for _, ns := range []string{name, fengcheng, hutou} {
		g.Expect(allowed(g, admins, "get", "secrets", ns)).To(BeTrue(), ns)
	}
	g.Expect(allowed(g, admins, "get", "secrets", "default")).To(BeFalse())

	// The same, through a client that impersonates a township admin.
	imp := rest.CopyConfig(cfg)
	imp.Impersonate = rest.ImpersonationConfig{UserName: "li.ming", Groups: []string{townshipAdmins, "system:authenticated"}}
	c, err := client.New(imp, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: fengcheng, Name: "notes"}, StringData: map[string]string{"a": "b"}}
	g.Expect(c.Create(ctx, secret)).To(Succeed())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{})).To(Succeed())
	err = c.Get(ctx, client.ObjectKey{Namespace: hutou, Name: "notes"}, &corev1.Secret{})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
}
