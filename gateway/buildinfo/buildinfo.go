// Package buildinfo says which build of fedgate is running: the module
// version, the VCS revision and time it was built from, and the Go version,
// as the Go toolchain stamped them into the binary.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info describes one build. Fields the toolchain did not stamp (a test
// binary, a build outside a repository) are empty.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go"`
}

// Read returns the running binary's build information. override, when not
// empty, replaces the module version (a release build may set it with
// -ldflags "-X main.version=v1.2.3").
func Read(override string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: orDevel(override)}
	}
	return FromBuildInfo(bi, override)
}

// FromBuildInfo extracts Info from what debug.ReadBuildInfo returned.
func FromBuildInfo(bi *debug.BuildInfo, override string) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if override != "" {
		info.Version = override
	}
	info.Version = orDevel(info.Version)
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

func orDevel(v string) string {
	if v == "" {
		return "(devel)"
	}
	return v
}

// String is the one-line form: "v1.2.3 (abc1234def, 2026-01-02T03:04:05Z, modified) go1.26.8".
func (i Info) String() string {
	var vcs []string
	if i.Revision != "" {
		vcs = append(vcs, i.Revision)
	}
	if i.Time != "" {
		vcs = append(vcs, i.Time)
	}
	if i.Modified {
		vcs = append(vcs, "modified")
	}
	s := i.Version
	if len(vcs) > 0 {
		s += " (" + strings.Join(vcs, ", ") + ")"
	}
	if i.GoVersion != "" {
		s += " " + i.GoVersion
	}
	return s
}

// Attrs are the fields as slog key-value pairs, for the start-up line.
func (i Info) Attrs() []any {
	return []any{"version", i.Version, "revision", i.Revision, "vcs_time", i.Time, "vcs_modified", i.Modified, "go", i.GoVersion}
}

// Lines is the long form `fedgate version` prints.
func (i Info) Lines() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fedgate %s\n", i.Version)
	if i.Revision != "" {
		fmt.Fprintf(&b, "revision: %s\n", i.Revision)
	}
	if i.Time != "" {
		fmt.Fprintf(&b, "time:     %s\n", i.Time)
	}
	if i.Modified {
		b.WriteString("modified: true (built from a working tree with uncommitted changes)\n")
	}
	fmt.Fprintf(&b, "go:       %s\n", i.GoVersion)
	return b.String()
}
