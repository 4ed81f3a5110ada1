package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fedgate/exchange/secret"
	"fedgate/gateway/config"
)

// A rotated key waits for every replica's reload and, with keys.publish,
// for the published objects' cache lifetime, whichever is longer.
func TestKeyPublishDelay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reload  time.Duration
		publish *config.Publish
		want    time.Duration
	}{
		{"no publishing", 2 * time.Second, nil, 5 * time.Second},
		{"a cache longer than two reloads", 2 * time.Second, &config.Publish{CacheMaxAge: config.Duration(time.Minute)}, 61 * time.Second},
		{"a cache shorter than two reloads", 10 * time.Second, &config.Publish{CacheMaxAge: config.Duration(5 * time.Second)}, 21 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &config.File{Server: config.Server{ReloadInterval: config.Duration(tc.reload)}, Keys: config.Keys{Publish: tc.publish}}
			if got := keyPublishDelay(f); got != tc.want {
				t.Errorf("delay %s, want %s", got, tc.want)
			}
		})
	}
}

// keys publish without a bucket says so, and rotates nothing.
func TestKeysPublishNeedsTheSection(t *testing.T) {
	key, _ := secret.GenerateKey(strings.NewReader(strings.Repeat("k", 32)))
	cfg := writeFile(t, "fedgate.yaml", checkBase+"keys: {master_key: "+key+"}\nstore: {path: "+filepath.Join(t.TempDir(), "f.db")+"}\n")
	code, out, errOut := runCmd(t, "", "keys", "publish", "--config", cfg)
	if code != 1 || !strings.HasPrefix(errOut, "fedgate keys publish: "+cfg+" has no keys.publish section") || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
