package pgsql

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jiceng-io/region-operator/internal/localpg"
)

// The operator verifies the server with the CA a DatabaseServer names: verify-full
// works with the right CA and the certificate's host name, and fails with another CA
// or another name; require with a CA verifies the chain as libpq does; a server that
// asks for a client certificate gets the one configured, and nobody gets in without.
func TestOperatorVerifiesTheServersCertificate(t *testing.T) {
	pg, su := serverWithDatabases(t, 0)
	ctx := context.Background()
	ca, err := localpg.NewCA("provincial CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := localpg.NewCA("some other CA")
	if err != nil {
		t.Fatal(err)
	}
	// The certificate names localhost only, not 127.0.0.1.
	cert, key, err := ca.Issue("pg.province", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.EnableTLS(cert, key, ca.CertPEM,
		"hostnossl all certadmin 0.0.0.0/0 reject",
		"hostssl all certadmin 127.0.0.1/32 scram-sha-256 clientcert=verify-ca",
		"hostnossl all tlsonly 0.0.0.0/0 reject"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`CREATE ROLE certadmin LOGIN PASSWORD 'cert-pw'`,
		`CREATE ROLE tlsonly LOGIN PASSWORD 'tls-pw'`,
	} {
		if _, err := su.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	clientCert, clientKey, err := ca.Issue("certadmin")
	if err != nil {
		t.Fatal(err)
	}
	strangerCert, strangerKey, err := other.Issue("certadmin")
	if err != nil {
		t.Fatal(err)
	}
	base := ServerConfig{Host: "localhost", Port: pg.Port, User: "tlsonly", Password: "tls-pw", MaxConns: 1}
	cases := []struct {
		name   string
		change func(*ServerConfig)
		// fails is a part of the error, "" when the connection must work.
		fails string
		kind  FailureKind
	}{
		{"verify-full with the right CA", func(c *ServerConfig) { c.SSLMode, c.CACert = "verify-full", string(ca.CertPEM) }, "", 0},
		{"verify-full with another CA", func(c *ServerConfig) { c.SSLMode, c.CACert = "verify-full", string(other.CertPEM) }, "x509: certificate signed by unknown authority", FailedCertificate},
		{"verify-full with a name the certificate does not have", func(c *ServerConfig) {
			c.SSLMode, c.CACert, c.Host = "verify-full", string(ca.CertPEM), "127.0.0.1"
		}, "x509: cannot validate certificate for 127.0.0.1", FailedCertificate},
		{"verify-full with the system's roots", func(c *ServerConfig) { c.SSLMode = "verify-full" }, "certificate signed by unknown authority", FailedCertificate},
		{"verify-ca with the right CA ignores the name", func(c *ServerConfig) {
			c.SSLMode, c.CACert, c.Host = "verify-ca", string(ca.CertPEM), "127.0.0.1"
		}, "", 0},
		{"require with another CA verifies the chain", func(c *ServerConfig) { c.SSLMode, c.CACert = "require", string(other.CertPEM) }, "unknown authority", FailedCertificate},
		{"require without a CA encrypts only", func(c *ServerConfig) { c.SSLMode = "require" }, "", 0},
		{"a client certificate from the server's CA", func(c *ServerConfig) {
			c.SSLMode, c.CACert, c.User, c.Password = "verify-full", string(ca.CertPEM), "certadmin", "cert-pw"
			c.ClientCert, c.ClientKey = string(clientCert), string(clientKey)
		}, "", 0},
		{"no client certificate where the server asks for one", func(c *ServerConfig) {
			c.SSLMode, c.CACert, c.User, c.Password = "verify-full", string(ca.CertPEM), "certadmin", "cert-pw"
		}, "requires a valid client certificate", FailedAuthentication},
		{"a client certificate from another CA", func(c *ServerConfig) {
			c.SSLMode, c.CACert, c.User, c.Password = "verify-full", string(ca.CertPEM), "certadmin", "cert-pw"
			c.ClientCert, c.ClientKey = string(strangerCert), string(strangerKey)
		}, "requires a valid client certificate", FailedAuthentication},
		{"a CA that is not PEM", func(c *ServerConfig) { c.SSLMode, c.CACert = "verify-full", "not a certificate" }, "spec.caSecretRef: ca.crt holds no PEM certificate", FailedSettings},
		{"a client key that does not match", func(c *ServerConfig) {
			c.SSLMode, c.CACert = "verify-full", string(ca.CertPEM)
			c.ClientCert, c.ClientKey = string(clientCert), string(strangerKey)
		}, "spec.clientCertSecretRef", FailedSettings},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.change(&cfg)
			conn, err := connect(ctx, cfg, "postgres")
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("did not connect: %v", err)
				}
				defer hangUp(conn)
				var ssl bool
				if err := conn.QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl); err != nil || !ssl {
					t.Errorf("the session is not encrypted (%v)", err)
				}
				return
			}
			if err == nil {
				hangUp(conn)
				t.Fatalf("connected; want a failure naming %q", tc.fails)
			}
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.Kind != tc.kind {
				t.Errorf("error %q is not a connection failure of kind %d", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.fails) {
				t.Errorf("error %q does not say %q", err, tc.fails)
			}
			if strings.Contains(err.Error(), "tlsonly") || strings.Contains(err.Error(), "certadmin") {
				t.Errorf("error %q names the Secret's user", err)
			}
		})
	}
}
