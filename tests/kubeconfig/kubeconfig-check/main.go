// kubeconfig-check: reads kubeconfigs the way kubectl and any client-go program do, and reports what they say.
//
// For each file: clientcmd.LoadFromFile (the loader behind `kubectl config view --raw`), clientcmd.Validate
// (kubectl's validation), a rest.Config from clientcmd.NewDefaultClientConfig(...).ClientConfig(), then
// rest.TLSConfigFor, which parses the embedded CA, client certificate and key and checks that they pair.
// Then the client certificate is verified against the embedded CA for client authentication.
//
// Prints one line per file:
//
//	OK <file> context=<ctx> server=<url> user=<name> cn=<CN> o=<O,...> verify=ok
//	OK <file> context=<ctx> server=<url> user=<name> token-id=<ID> verify=token   (a bootstrap kubeconfig)
//
// and on any failure "FAIL <file>: <error>" on stderr; exits 1 if any file failed, 2 on usage.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

var bootstrapToken = regexp.MustCompile(`^([a-z0-9]{6})\.[a-z0-9]{16}$`)

func check(path string) (string, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	ctxName := cfg.CurrentContext
	ctx := cfg.Contexts[ctxName]
	if ctx == nil {
		return "", fmt.Errorf("current-context %q not defined", ctxName)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return "", fmt.Errorf("client config: %w", err)
	}
	tlsCfg, err := rest.TLSConfigFor(rc)
	if err != nil {
		return "", fmt.Errorf("tls config: %w", err)
	}
	if tlsCfg == nil || tlsCfg.RootCAs == nil {
		return "", errors.New("tls config: no certificate authority")
	}
	var certs []tls.Certificate
	if len(tlsCfg.Certificates) > 0 {
		certs = tlsCfg.Certificates
	} else if tlsCfg.GetClientCertificate != nil {
		c, err := tlsCfg.GetClientCertificate(&tls.CertificateRequestInfo{})
		if err != nil {
			return "", fmt.Errorf("client certificate: %w", err)
		}
		if c != nil && len(c.Certificate) > 0 {
			certs = []tls.Certificate{*c}
		}
	}
	if len(certs) == 0 || len(certs[0].Certificate) == 0 {
		// A bootstrap kubeconfig: a bearer token of kubeadm's form (ID.SECRET), not a certificate.
		m := bootstrapToken.FindStringSubmatch(rc.BearerToken)
		if m == nil {
			return "", errors.New("no client certificate, and no bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}")
		}
		return fmt.Sprintf("context=%s server=%s user=%s token-id=%s verify=token", ctxName, rc.Host, ctx.AuthInfo, m[1]), nil
	}
	leaf, err := x509.ParseCertificate(certs[0].Certificate[0])
	if err != nil {
		return "", fmt.Errorf("parse client certificate: %w", err)
	}
	// The pool of the CA alone, as embedded in the kubeconfig (not the system roots).
	pool := x509.NewCertPool()
	caData := rc.TLSClientConfig.CAData
	if len(caData) == 0 && rc.TLSClientConfig.CAFile != "" {
		if caData, err = os.ReadFile(rc.TLSClientConfig.CAFile); err != nil {
			return "", fmt.Errorf("read CA: %w", err)
		}
	}
	if !pool.AppendCertsFromPEM(caData) {
		return "", errors.New("no CA certificate in certificate-authority-data")
	}
	inter := x509.NewCertPool()
	for _, der := range certs[0].Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		CurrentTime:   time.Now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return "", fmt.Errorf("client certificate does not verify against the embedded CA: %w", err)
	}
	return fmt.Sprintf("context=%s server=%s user=%s cn=%s o=%s verify=ok",
		ctxName, rc.Host, ctx.AuthInfo, leaf.Subject.CommonName, strings.Join(leaf.Subject.Organization, ",")), nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kubeconfig-check KUBECONFIG...")
		os.Exit(2)
	}
	failed := false
	for _, p := range os.Args[1:] {
		line, err := check(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", p, err)
			failed = true
			continue
		}
		fmt.Printf("OK %s %s\n", p, line)
	}
	if failed {
		os.Exit(1)
	}
}
