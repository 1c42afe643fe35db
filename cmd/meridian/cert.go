package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/spf13/cobra"
)

// The files of a certificates directory, as the node and the client
// commands look for them (CockroachDB's names, so habits carry over).
const (
	caCertFile   = "ca.crt"
	nodeCertFile = "node.crt"
	nodeKeyFile  = "node.key"
)

func clientCertFiles(user string) (crt, key string) {
	return "client." + user + ".crt", "client." + user + ".key"
}

func newCertCmd() *cobra.Command {
	var certsDir, caKey string
	var lifetime time.Duration
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "create the certificates of a secure cluster",
		Long: `Create a CA, node certificates and client certificates for a secure cluster:
  meridian cert create-ca --certs-dir certs --ca-key my-safe/ca.key
  meridian cert create-node 127.0.0.1 localhost node1.example.com --certs-dir certs --ca-key my-safe/ca.key
  meridian cert create-client root --certs-dir certs --ca-key my-safe/ca.key
Every node needs ca.crt, node.crt and node.key in its --certs-dir; clients
need ca.crt and their client.<user>.crt and .key. Keep ca.key elsewhere.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&certsDir, "certs-dir", "certs", "directory of the certificates")
	pf.StringVar(&caKey, "ca-key", "", "the CA's private key (required)")
	pf.DurationVar(&lifetime, "lifetime", 5*365*24*time.Hour, "how long the certificate is valid")
	cmd.AddCommand(&cobra.Command{
		Use:   "create-ca",
		Short: "create a certificate authority: ca.crt in --certs-dir, its key at --ca-key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if caKey == "" {
				return errors.New("--ca-key is required")
			}
			return createCA(certsDir, caKey, 2*lifetime)
		},
	}, &cobra.Command{
		Use:   "create-node HOST...",
		Short: "create node.crt and node.key for the hosts (addresses and names) a node is reached at",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, hosts []string) error {
			if caKey == "" {
				return errors.New("--ca-key is required")
			}
			return createSigned(certsDir, caKey, lifetime, "node", hosts, nodeCertFile, nodeKeyFile,
				[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
		},
	}, &cobra.Command{
		Use:   "create-client USER",
		Short: "create client.USER.crt and client.USER.key, which authenticate USER",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if caKey == "" {
				return errors.New("--ca-key is required")
			}
			crt, key := clientCertFiles(args[0])
			return createSigned(certsDir, caKey, lifetime, args[0], nil, crt, key, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
		},
	})
	return cmd
}

func createCA(dir, keyPath string, lifetime time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "Meridian CA", Organization: []string{"Meridian"}},
		NotBefore: hlc.PhysicalNow().Add(-time.Hour), NotAfter: hlc.PhysicalNow().Add(lifetime),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	if err := writePEM(keyPath, "EC PRIVATE KEY", mustMarshalKey(key), 0o600); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, caCertFile), "CERTIFICATE", der, 0o644)
}

func createSigned(dir, caKeyPath string, lifetime time.Duration, cn string, hosts []string, crtName, keyName string, usage []x509.ExtKeyUsage) error {
	ca, caKey, err := loadCA(dir, caKeyPath)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"Meridian"}},
		NotBefore: hlc.PhysicalNow().Add(-time.Hour), NotAfter: hlc.PhysicalNow().Add(lifetime),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: usage,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, keyName), "EC PRIVATE KEY", mustMarshalKey(key), 0o600); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, crtName), "CERTIFICATE", der, 0o644)
}

func loadCA(dir, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, caCertFile), keyPath)
	if err != nil {
		return nil, nil, errors.Wrap(err, "loading the CA (run 'meridian cert create-ca' first)")
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("the CA key is not an ECDSA key")
	}
	return ca, key, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}

func mustMarshalKey(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // a P-256 key always marshals
	}
	return b
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return errors.Newf("%s exists: refusing to overwrite it", path)
	}
	return errors.Wrapf(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode), "writing %s", path)
}

// nodeTLS is a secure node's TLS configuration.
type nodeTLS struct {
	rpcServer, rpcClient, sql *tls.Config
}

// loadNodeTLS reads a node's certificates: node-to-node gRPC becomes
// mutual TLS (each side presents its node certificate, checked against
// the CA), the operator's commands present client certificates of the same
// CA, and SQL clients must use TLS and authenticate (a client certificate
// naming the user, or the password of a role stored in the cluster).
func loadNodeTLS(dir string) (nodeTLS, error) {
	pool, err := loadCAPool(dir)
	if err != nil {
		return nodeTLS{}, err
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, nodeCertFile), filepath.Join(dir, nodeKeyFile))
	if err != nil {
		return nodeTLS{}, errors.Wrap(err, "loading the node certificate (run 'meridian cert create-node')")
	}
	return nodeTLS{
		rpcServer: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13},
		rpcClient: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS13},
		sql:       &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12},
	}, nil
}

func loadCAPool(dir string) (*x509.CertPool, error) {
	b, err := os.ReadFile(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, errors.Wrap(err, "reading the CA certificate (run 'meridian cert create-ca')")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.Newf("%s holds no certificate", filepath.Join(dir, caCertFile))
	}
	return pool, nil
}

// clientTLS is what the operator's commands dial a secure node with.
func clientTLS(dir, user string) (*tls.Config, error) {
	pool, err := loadCAPool(dir)
	if err != nil {
		return nil, err
	}
	crt, key := clientCertFiles(user)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, crt), filepath.Join(dir, key))
	if err != nil {
		return nil, errors.Wrapf(err, "loading %s's client certificate (run 'meridian cert create-client %s')", user, user)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS13}, nil
}
