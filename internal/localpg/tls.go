package localpg

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CA is a certificate authority made for a test: it signs a server's certificate and
// clients' certificates.
type CA struct {
	// CertPEM is the authority's certificate, as a ca.crt holds it.
	CertPEM []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// NewCA makes a self-signed authority valid for a day.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert: cert, key: key}, nil
}

// Issue signs a certificate for commonName, valid for the given host names and
// addresses (a server's) or, with none, for client authentication; it returns the
// certificate and its key in PEM.
func (ca *CA) Issue(commonName string, hosts ...string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// EnableTLS turns on ssl with the given server certificate and key; clientCA, when
// given, is the authority client certificates are checked against. hbaFirst are
// pg_hba.conf lines put before the others (the first line that matches decides). The
// server reloads its configuration; connections without TLS keep working where no
// line of hbaFirst refuses them.
func (s *Server) EnableTLS(certPEM, keyPEM, clientCA []byte, hbaFirst ...string) error {
	files := map[string][]byte{"server.crt": certPEM, "server.key": keyPEM}
	conf := "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
	if clientCA != nil {
		files["client-ca.crt"] = clientCA
		conf += "ssl_ca_file = 'client-ca.crt'\n"
	}
	for name, data := range files {
		if err := s.writeDataFile(name, data); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(s.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if len(hbaFirst) > 0 {
		hba, err := os.ReadFile(filepath.Join(s.data(), "pg_hba.conf"))
		if err != nil {
			return err
		}
		if err := s.writeDataFile("pg_hba.conf", append([]byte(strings.Join(hbaFirst, "\n")+"\n"), hba...)); err != nil {
			return err
		}
	}
	if out, err := s.run("pg_ctl", "-D", s.data(), "reload"); err != nil {
		return fmt.Errorf("reloading PostgreSQL: %w\n%s", err, out)
	}
	// A reload is signalled, not waited for: wait until the server speaks TLS.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", net.JoinHostPort(s.Host, fmt.Sprint(s.Port)))
		if err == nil {
			// SSLRequest: the server answers S once ssl is on.
			_, _ = conn.Write([]byte{0, 0, 0, 8, 4, 210, 22, 47})
			b := make([]byte, 1)
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			_, rerr := conn.Read(b)
			conn.Close()
			if rerr == nil && b[0] == 'S' {
				return nil
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.LogPath())
			return fmt.Errorf("PostgreSQL does not speak TLS after a reload:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeDataFile writes a file into the data directory, readable by the server only.
func (s *Server) writeDataFile(name string, data []byte) error {
	path := filepath.Join(s.data(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	if s.cred != nil {
		return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
	}
	return nil
}
