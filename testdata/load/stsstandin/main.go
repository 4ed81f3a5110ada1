// Command stsstandin is an instant STS for load runs: it answers every
// AssumeRoleWithWebIdentity with fixed session credentials in STS's XML,
// without checking the token, so that a load run measures fedgate alone.
// It listens on 127.0.0.1 (an ephemeral port unless -port is given) and
// prints "PORT n" once listening. Never use it outside a load run.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

const response = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>standin</SubjectFromWebIdentityToken>
    <Audience>standin</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/standin/session</Arn>
      <AssumedRoleId>AROASTANDIN:session</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIASTANDIN000000000</AccessKeyId>
      <SecretAccessKey>standin-secret-access-key-0000000000000</SecretAccessKey>
      <SessionToken>standin-session-token</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <Provider>standin</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any free one)")
	flag.Parse()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	_ = os.Stdout.Sync()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "AssumeRoleWithWebIdentity" {
			http.Error(w, "AssumeRoleWithWebIdentity only", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, response, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	})
	log.Fatal((&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln))
}
