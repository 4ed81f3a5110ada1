package config

import "time"

// Audit bounds the audit log's growth. Rows older than Retention, and
// rows beyond the newest MaxRows, are deleted in the background.
type Audit struct {
	Retention Duration `yaml:"retention" json:"retention"`
	// MaxRows caps the rows kept (0: no cap beyond retention).
	MaxRows int64 `yaml:"max_rows" json:"max_rows,omitempty"`
}

// Defaults and bounds of the audit settings.
const (
	DefaultAuditRetention = 400 * 24 * time.Hour
	minAuditRetention     = 24 * time.Hour
	minAuditMaxRows       = 1000
)

func (a *Audit) applyDefaults() {
	if a.Retention == 0 {
		a.Retention = Duration(DefaultAuditRetention)
	}
}

func (a *Audit) validate(add func(string, string, ...any)) {
	if a.Retention.D() < minAuditRetention {
		add("audit.retention", "must be at least 24h (the default is 9600h, 400 days)")
	}
	if a.MaxRows != 0 && a.MaxRows < minAuditMaxRows {
		add("audit.max_rows", "must be 0 (no cap) or at least %d", minAuditMaxRows)
	}
}
