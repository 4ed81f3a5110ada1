package config

import (
	"errors"
	"strings"
	"testing"

	"fedgate/exchange/arn"
)

// sts.flavor decides which role ARNs the pools may name: IAM's by default,
// MinIO's when the operator declares a MinIO STS.
func TestSTSFlavorDecidesRoleARNs(t *testing.T) {
	env := envOf(map[string]string{"MASTER": "k", "SECRET": "s"})
	minioRole := "arn:minio:iam:::role/nOybJqMNzNmroqEKq5D0EUsRZw0"
	withMinIORole := strings.Replace(validConfig, "arn:aws:iam::123456789012:role/reader", minioRole, 1)
	minio := "sts:\n  flavor: minio\n"

	f, err := Parse([]byte(validConfig), env)
	if err != nil || f.STS.Flavor != arn.FlavorAWS {
		t.Fatalf("default flavor: %v, %v; want aws", f.STS.Flavor, err)
	}
	if f, err := Parse([]byte(minio+withMinIORole), env); err != nil || f.STS.Flavor != arn.FlavorMinIO {
		t.Fatalf("a MinIO role under flavor minio: %v", err)
	}
	tests := []struct{ name, yaml, path, msg string }{
		{"MinIO role under aws", withMinIORole, "pools[0].rules[0].role", "arn:aws:iam::123456789012:role/name"},
		{"IAM role under minio", minio + validConfig, "pools[0].rules[0].role", "sts.flavor is minio"},
		{"unknown flavor", "sts:\n  flavor: ceph\n" + validConfig, "sts.flavor", "want aws or minio"},
		{"authenticated role of the other flavor", minio + strings.Replace(withMinIORole, "    name: team\n", "    name: team\n    authenticated_role: arn:aws:iam::123456789012:role/x\n", 1), "pools[0].authenticated_role", "arn:minio:iam:::role/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), env)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			for _, p := range ps {
				if p.Path == tt.path && strings.Contains(p.String(), tt.msg) {
					return
				}
			}
			t.Errorf("no problem at %s mentioning %q in:\n%v", tt.path, tt.msg, err)
		})
	}
}
