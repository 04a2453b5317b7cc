package controllers_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// A DatabaseServer with a private CA: the operator verifies the server with it, and a
// township's credential Secret carries it, so the township's service verifies the
// server with verify-full too; another CA or a host name the certificate does not have
// fails, for the operator and the township alike. The server's certificate names
// localhost only.
func TestVerifiedTLSWithAPrivateCA(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ca, err := localpg.NewCA("provincial CA")
	g.Expect(err).NotTo(HaveOccurred())
	other, err := localpg.NewCA("some other CA")
	g.Expect(err).NotTo(HaveOccurred())
	cert, key, err := ca.Issue("pg.province", "localhost")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pg.EnableTLS(cert, key, nil)).To(Succeed())

	// tlsServer registers a DatabaseServer reached as host with verify-full, verified
	// with the CA in caPEM.
	tlsServer := func(host string, caPEM []byte) string {
		server := uniqueName("tls-pg")
		ns := controllers.DefaultSecretNamespace
		g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: server},
			StringData: map[string]string{"username": pgAdmin, "password": pgAdminPassword}})).To(Succeed())
		g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: server + "-ca"},
			Data: map[string][]byte{"ca.crt": caPEM}})).To(Succeed())
		g.Expect(k8s.Create(ctx, &platformv1.DatabaseServer{
			ObjectMeta: metav1.ObjectMeta{Name: server},
			Spec: platformv1.DatabaseServerSpec{
				Host: host, Port: int32(pg.Port), SSLMode: "verify-full", MaxConnections: 2,
				AdminSecretRef: platformv1.SecretKeyReference{Namespace: ns, Name: server},
				CASecretRef:    &platformv1.SecretReference{Namespace: ns, Name: server + "-ca"},
			},
		})).To(Succeed())
		return server
	}
	serverReady := func(server string, want metav1.ConditionStatus, says string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			ds := &platformv1.DatabaseServer{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
			c := metaCondition(ds.Status.Conditions, controllers.ConditionReady)
			g.Expect(c.Status).To(Equal(want), c.Message)
			g.Expect(c.Message).To(ContainSubstring(says))
		}, timeout, interval).Should(Succeed())
	}

	good := tlsServer("localhost", ca.CertPEM)
	serverReady(good, metav1.ConditionTrue, "answers")
	serverReady(tlsServer("localhost", other.CertPEM), metav1.ConditionFalse, "x509: certificate signed by unknown authority")
	serverReady(tlsServer("127.0.0.1", ca.CertPEM), metav1.ConditionFalse, "x509: cannot validate certificate for 127.0.0.1")

	name := uniqueName("tls")
	rg := dbRegion(name)
	rg.Spec.Database.ServerRef = good
	createRegion(t, rg)
	waitReady(t, name)

	s := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: naming.TownshipNamespace(name, "hutou"), Name: naming.SecretDatabase}, s)).To(Succeed())
	g.Expect(s.Data["ca.crt"]).To(Equal(ca.CertPEM), "the township's Secret carries the server's CA")
	g.Expect(string(s.Data["sslrootcert"])).To(Equal(naming.DatabaseCAFile))
	g.Expect(string(s.Data["sslmode"])).To(Equal("verify-full"))
	uri, err := url.Parse(string(s.Data["uri"]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(uri.Query().Get("sslrootcert")).To(Equal(naming.DatabaseCAFile))

	// The township's service, with its Secret's ca.crt where its pod would mount it.
	dir := t.TempDir()
	connectWith := func(host string, caPEM []byte) error {
		caFile := filepath.Join(dir, uniqueName("ca")+".crt")
		g.Expect(os.WriteFile(caFile, caPEM, 0o600)).To(Succeed())
		u := *uri
		q := u.Query()
		q.Set("sslrootcert", caFile)
		u.RawQuery = q.Encode()
		u.Host = host + ":" + u.Port()
		conn, err := pgx.Connect(ctx, u.String())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var ssl bool
		g.Expect(conn.QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl)).To(Succeed())
		g.Expect(ssl).To(BeTrue())
		return nil
	}
	g.Expect(connectWith("localhost", s.Data["ca.crt"])).To(Succeed(), "the township's credential verifies the server")
	err = connectWith("localhost", other.CertPEM)
	g.Expect(err).To(MatchError(ContainSubstring("x509: certificate signed by unknown authority")))
	err = connectWith("127.0.0.1", s.Data["ca.crt"])
	g.Expect(err).To(MatchError(ContainSubstring("x509: cannot validate certificate for 127.0.0.1")))
}

// The CA's Secret, like the administrator's, is read only in the operator's namespace,
// and one without ca.crt is named as such.
func TestCASecretIsReadOnlyInTheOperatorsNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	for _, c := range []struct {
		ref  platformv1.SecretReference
		says string
	}{
		{platformv1.SecretReference{Namespace: "kube-system", Name: "extension-apiserver-authentication"}, `spec.caSecretRef.namespace is "kube-system"`},
		{platformv1.SecretReference{Namespace: controllers.DefaultSecretNamespace, Name: "no-such-ca"}, "spec.caSecretRef: reading the Secret " + controllers.DefaultSecretNamespace + "/no-such-ca"},
	} {
		server := uniqueName("ca-pg")
		g.Expect(registerServer(server, pgAdminPassword, 1)).To(Succeed())
		ds := &platformv1.DatabaseServer{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
		ds.Spec.CASecretRef = &c.ref
		g.Expect(k8s.Update(ctx, ds)).To(Succeed())
		g.Eventually(func(g Gomega) {
			ds := &platformv1.DatabaseServer{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
			cond := metaCondition(ds.Status.Conditions, controllers.ConditionReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Message).To(ContainSubstring(c.says))
		}, timeout, interval).Should(Succeed())
	}
}
