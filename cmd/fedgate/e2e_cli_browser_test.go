package main

// End-to-end: `fedgate login`'s loopback sign-in in headless Chromium,
// where CSP is enforced, through the three kinds of provider sign-in: an
// OIDC IdP (npm oidc-provider; its callback is a GET), the demo provider's
// password form and a SAML IdP's HTTP-POST binding (npm samlify; both end
// in a form post to fedgate). Each ends with the CLI holding a session
// and credential-process getting credentials IAM (moto) accepts.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/chromedp/chromedp"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/wire"
)

const poolLoginKinds = "us-east-1:3c9e4f1a-7b2d-4e8f-a6c5-0d1b2c3e4f5a"

// startLoginKindsEnv runs fedgate with one pool that accepts an OIDC, a
// demo (static) and a SAML provider, and gives s3-readers the reader role.
func startLoginKindsEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, teamAccountTrust)
	samlify := peers.StartSamlify(t, samlUsers("samlify", e.readerRole, e.adminRole), e.url+"/saml/metadata/samlify")
	e.serve(e.startCorpIdP() + fmt.Sprintf(`  - id: demo
    type: static
    display_name: Demo users
    users:
      - username: alice
        password_hash: $2a$12$x9WK8SK7Scy/RCOAuPlIGu4JUzIj1YzvHro4z45dYvhqq9Bn7L5fC   # alice-demo
        claims: {email: alice@example.com, groups: [engineering, s3-readers]}
      - username: bob
        password_hash: $2a$12$zdlGV8UoxyQgB/.8Qh.X8OcofgaKLgVrBQWDO0EVhp6xNDg2lIM9.   # bob-demo
        claims: {email: bob@example.com, groups: [sales]}
  - id: samlify
    type: saml
    display_name: samlify IdP
    idp_metadata_url: %s
pools:
  - id: %s
    name: team
    display_name: Team account
    providers: [corp, demo, samlify]
%s
`, samlify.MetadataURL, poolLoginKinds, readersRule(e.readerRole)))
	return e
}

// fillAndSubmit types the values into the page's inputs (by name) and
// clicks its submit button.
func fillAndSubmit(b *peers.Chromium, t *testing.T, step string, fields ...string) {
	t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		sel := fmt.Sprintf(`input[name=%q]`, fields[i])
		actions = append(actions, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), fields[i+1]))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.Run(t, step, actions...)
}

// waitCLIPage waits for the page of `fedgate login`'s loopback listener.
// A browser that stays on fedgate (a CSP violation stops the navigation)
// fails the test with the page it is on.
func waitCLIPage(t *testing.T, b *peers.Chromium) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("result"))); err != nil {
		loc, _ := chromedp.Run(b.Ctx, chromedp.Location())
		body, _ := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("the browser never reached the CLI's loopback page (%v); it is on %s:\n%.2000s", err, loc, body)
	}
}

func TestEndToEndCLILoginInChromium(t *testing.T) {
	e := startLoginKindsEnv(t)
	b := peers.StartChromium(t, 1000, 800, 4*time.Minute)
	kinds := []struct {
		provider string
		signIn   func(t *testing.T) // from the authorize URL to the CLI's page
	}{
		{"corp", func(t *testing.T) { b.SignInAtIdP(t, "alice", "#result") }},
		{"demo", func(t *testing.T) {
			fillAndSubmit(b, t, "the demo provider's password form", "username", "alice", "password", "alice-demo")
		}},
		{"samlify", func(t *testing.T) {
			fillAndSubmit(b, t, "samlify's login form", "username", "alice", "password", "alice-pw")
			// samlify hands the browser its HTTP-POST form; fedgate's ACS
			// re-posts it from its own origin, then returns to the CLI.
			b.Run(t, "post the SAML response", chromedp.Click(chromedp.CSS(`form#saml button[type=submit]`)))
		}},
	}
	for _, k := range kinds {
		t.Run(k.provider, func(t *testing.T) {
			home := newCLIHome(e)
			lines, done := home.start("login", "--pool", "team", "--provider", k.provider, "--no-browser")
			authURL := waitLine(t, lines, `^\s+(http://\S+/cli/authorize\?\S+)$`)
			b.Run(t, "open the authorize URL", chromedp.Navigate(authURL))
			k.signIn(t)
			waitCLIPage(t, b)
			if text := b.Text(t, "#result"); !strings.Contains(text, "You are signed in") {
				t.Fatalf("loopback page says %q", text)
			}
			r := waitDone(t, done, 30*time.Second)
			if r.code != 0 || !strings.Contains(r.stderr, "Signed in to "+e.url+" as alice") {
				t.Fatalf("login through %s: exit %d\n%s", k.provider, r.code, r.stderr)
			}
			cp := home.run("fedgate", "credential-process", "--pool", "team")
			var proc wire.ProcessCredentials
			if cp.code != 0 || json.Unmarshal([]byte(cp.stdout), &proc) != nil {
				t.Fatalf("credential-process after a %s login: exit %d\n%s%s", k.provider, cp.code, cp.stdout, cp.stderr)
			}
			e.assertLeastPrivilege(aws.Credentials{AccessKeyID: proc.AccessKeyID, SecretAccessKey: proc.SecretAccessKey, SessionToken: proc.SessionToken})
		})
	}

	t.Run("a refused sign-in ends the login with the reason", func(t *testing.T) {
		home := newCLIHome(e)
		lines, done := home.start("login", "--pool", "team", "--provider", "demo", "--no-browser")
		b.Run(t, "open the authorize URL", chromedp.Navigate(waitLine(t, lines, `^\s+(http://\S+/cli/authorize\?\S+)$`)))
		fillAndSubmit(b, t, "bob at the password form", "username", "bob", "password", "bob-demo")
		waitCLIPage(t, b)
		r := waitDone(t, done, 30*time.Second)
		if r.code != 1 || !strings.Contains(r.stderr, "the gateway refused the sign-in: You signed in successfully, but no rule of the pool") {
			t.Fatalf("bob's login: exit %d\n%s", r.code, r.stderr)
		}
		if text := b.Text(t, "#result"); !strings.Contains(text, "no rule of the pool") {
			t.Errorf("the CLI's page says %q", text)
		}
	})

	t.Run("Ctrl-C says interrupted", func(t *testing.T) {
		home := newCLIHome(e)
		lines, done := home.start("login", "--pool", "team", "--provider", "demo", "--no-browser")
		waitLine(t, lines, `^(Waiting) for the browser to come back to http://127\.0\.0\.1:\d+/callback`)
		if err := home.lastProcess.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		r := waitDone(t, done, 10*time.Second)
		if r.code != 1 || !strings.Contains(r.stderr, "fedgate login: interrupted while waiting for the browser sign-in") || strings.Contains(r.stderr, "timed out") {
			t.Errorf("login after Ctrl-C: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("--timeout says timed out", func(t *testing.T) {
		home := newCLIHome(e)
		_, done := home.start("login", "--pool", "team", "--provider", "demo", "--no-browser", "--timeout", "2s")
		r := waitDone(t, done, 20*time.Second)
		if r.code != 1 || !strings.Contains(r.stderr, "timed out after 2s waiting for the browser sign-in") {
			t.Errorf("login past its timeout: exit %d\n%s", r.code, r.stderr)
		}
	})
}
