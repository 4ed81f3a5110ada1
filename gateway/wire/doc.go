// Package wire holds the JSON shapes fedgate exchanges with its callers:
// the JSON API, the CLI endpoints and the `fedgate` client, the Cognito
// Identity API, the AWS CLI's credential_process and the AWS federation
// endpoint. Server, client and tests declare each shape once, here, so a
// field renamed on one side cannot silently break the other.
//
// The package is a leaf: it imports the standard library only, and holds
// shapes, not behaviour. Conversions from fedgate's own types live with
// those types (e.g. package exchange).
package wire
