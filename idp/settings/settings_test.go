package settings

import (
	"encoding/json"
	"testing"
	"time"
)

type sample struct {
	URL     string   `json:"url,omitempty" help:"where"`
	Secret  string   `json:"secret,omitempty" secret:"true"`
	PEM     string   `json:"pem,omitempty" form:"block"`
	Words   []string `json:"words,omitempty"`
	On      bool     `json:"on,omitempty"`
	Wait    Duration `json:"wait,omitempty"`
	Nested  []struct{ A string }
	Skipped string `json:"-"`
	hidden  string
}

func TestFields(t *testing.T) {
	got := Fields(&sample{})
	want := []Field{
		{Key: "url", Kind: KindText, Label: "Url", Help: "where"},
		{Key: "secret", Kind: KindText, Label: "Secret", Secret: true},
		{Key: "pem", Kind: KindBlock, Label: "Pem"},
		{Key: "words", Kind: KindList, Label: "Words"},
		{Key: "on", Kind: KindBool, Label: "On"},
		{Key: "wait", Kind: KindDuration, Label: "Wait"},
	}
	if len(got) != len(want) {
		t.Fatalf("fields %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if keys := SecretKeys(sample{}); len(keys) != 1 || keys[0] != "secret" {
		t.Errorf("secret keys %v", keys)
	}
	_ = sample{hidden: ""}.hidden
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"15m", 15 * time.Minute, true},
		{"120", 2 * time.Minute, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		var d Duration
		err := d.UnmarshalText([]byte(tt.in))
		if (err == nil) != tt.ok || d.D() != tt.want {
			t.Errorf("%q: %v, %v", tt.in, d.D(), err)
		}
	}
	b, err := json.Marshal(Duration(time.Minute))
	if err != nil || string(b) != `"1m0s"` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var back Duration
	if err := json.Unmarshal(b, &back); err != nil || back.D() != time.Minute {
		t.Fatalf("round trip: %v %v", back.D(), err)
	}
}

func TestProblemChecks(t *testing.T) {
	var ps Problems
	ps.CheckUpstreamURL("a", "https://idp.example.com")
	ps.CheckUpstreamURL("b", "http://127.0.0.1:9000")
	ps.CheckUpstreamURL("c", "http://idp.example.com")
	ps.CheckUpstreamURL("d", "not a url")
	d := func(v time.Duration) *Duration { x := Duration(v); return &x }
	ps.CheckClockSkew("e", d(time.Minute))
	ps.CheckClockSkew("f", d(6*time.Minute))
	ps.CheckClockSkew("g", d(-time.Second))
	ps.CheckClockSkew("h", nil)
	ps.CheckClockSkew("i", d(0))
	var keys []string
	for _, p := range ps {
		keys = append(keys, p.Key)
	}
	if got := len(keys); got != 4 || keys[0] != "c" || keys[1] != "d" || keys[2] != "f" || keys[3] != "g" {
		t.Fatalf("problems at %v", keys)
	}
}
