package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/issuertest"
	"fedgate/exchange/secret"
)

// Tokens from fedgate's own minter verify with an independent JOSE library
// (node's jose) through a discovery document and JWKS served over HTTP, for
// both signing algorithms, and say what was minted even for claims that need
// JSON escaping.
func TestMintedTokensVerifyWithJose(t *testing.T) {
	for _, alg := range []string{issuer.AlgES256, issuer.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			var iss *issuer.Issuer
			// Unstarted: the issuer needs the server's URL, and it is set
			// before the server can call the handler that reads it.
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var doc any
				switch r.URL.Path {
				case "/.well-known/openid-configuration":
					doc = issuer.Discovery("http://" + r.Host)
				case issuer.JWKSPath:
					doc = iss.JWKS()
				default:
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(doc)
			}))
			t.Cleanup(srv.Close)

			box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			iss, err = issuer.New(context.Background(), issuer.Options{
				URL: "http://" + srv.Listener.Addr().String(), Algorithm: alg, Keys: &issuertest.KeyStore{}, Sealer: box, Now: time.Now, Rand: rand.Reader,
			})
			if err != nil {
				t.Fatal(err)
			}
			srv.Start()
			sub := "us-east-1:<&>\u2028 \"é\" \\ \t"
			tok, err := iss.Mint(context.Background(), issuer.Token{
				Subject:           sub,
				Audience:          "us-east-1:pool",
				AMR:               []string{"authenticated", "corp"},
				Tags:              map[string]string{"team": "blue & <green>", "名前": "🙂"},
				TransitiveTagKeys: []string{"team"},
				SourceIdentity:    "alice@example.com",
			})
			if err != nil {
				t.Fatal(err)
			}

			got := peers.VerifyWithJose(t, srv.URL, "us-east-1:pool", tok)
			want := map[string]any{
				"iss": srv.URL,
				"sub": sub,
				"amr": []any{"authenticated", "corp"},
				issuer.ClaimTags: map[string]any{
					"principal_tags":      map[string]any{"team": []any{"blue & <green>"}, "名前": []any{"🙂"}},
					"transitive_tag_keys": []any{"team"},
				},
				issuer.ClaimSourceIdentity: "alice@example.com",
			}
			for k, v := range want {
				g, _ := json.Marshal(got[k])
				w, _ := json.Marshal(v)
				if !bytes.Equal(g, w) {
					t.Errorf("jose's %s = %s, want %s", k, g, w)
				}
			}
		})
	}
}
