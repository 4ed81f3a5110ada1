package store

import "testing"

// A schema version must mean the same tables on both backends.
func TestPostgresMigrationsMatchSQLite(t *testing.T) {
	if p, s := len(postgresMigrations()), len(sqliteMigrations()); p != s {
		t.Fatalf("%d PostgreSQL migrations, %d SQLite ones: add the new step to both", p, s)
	}
}

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
