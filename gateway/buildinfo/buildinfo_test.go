package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "fedgate", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "linux"}}}
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     Info
		line     string
	}{
		{"stamped", stamped, "", Info{Version: "v1.4.0", Revision: "0123456789abcdef", Time: "2026-12-01T10:00:00Z", Modified: true, GoVersion: "go1.26.8"},
			"v1.4.0 (0123456789abcdef, 2026-12-01T10:00:00Z, modified) go1.26.8"},
		{"override", stamped, "v2.0.0-rc1", Info{Version: "v2.0.0-rc1", Revision: "0123456789abcdef", Time: "2026-12-01T10:00:00Z", Modified: true, GoVersion: "go1.26.8"},
			"v2.0.0-rc1 (0123456789abcdef, 2026-12-01T10:00:00Z, modified) go1.26.8"},
		{"unstamped", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "fedgate", Version: "(devel)"}}, "",
			Info{Version: "(devel)", GoVersion: "go1.26.8"}, "(devel) go1.26.8"},
		{"empty version", &debug.BuildInfo{GoVersion: "go1.26.8"}, "", Info{Version: "(devel)", GoVersion: "go1.26.8"}, "(devel) go1.26.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FromBuildInfo(tc.bi, tc.override)
			if got != tc.want {
				t.Errorf("FromBuildInfo = %+v, want %+v", got, tc.want)
			}
			if got.String() != tc.line {
				t.Errorf("String = %q, want %q", got.String(), tc.line)
			}
			lines := got.Lines()
			if !strings.HasPrefix(lines, "fedgate "+tc.want.Version+"\n") || !strings.Contains(lines, tc.want.GoVersion) ||
				strings.Contains(lines, "revision") != (tc.want.Revision != "") {
				t.Errorf("Lines =\n%s", lines)
			}
		})
	}
}

func TestReadInTests(t *testing.T) {
	if got := Read(""); got.GoVersion == "" || got.Version == "" {
		t.Errorf("Read = %+v", got)
	}
	if got := Read("v7"); got.Version != "v7" {
		t.Errorf("Read(v7).Version = %q", got.Version)
	}
}
