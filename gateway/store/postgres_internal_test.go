package store

import "testing"

func TestRedactDSNError(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u:pw-secret@h:99999999/db", "invalid connection string: invalid port"},
		{"host=h password=pw-secret port=x", "invalid connection string: invalid port"},
	}
	for _, tt := range tests {
		err := ParsePostgresDSN(tt.dsn)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParsePostgresDSN(%q) = %v, want %q", tt.dsn, err, tt.want)
		}
	}
}
