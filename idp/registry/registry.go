// Package registry lists the provider types fedgate knows. Adding a type
// is one package under idp/ and one line in Types.
package registry

import (
	"fedgate/idp"
	"fedgate/idp/oauth2"
	"fedgate/idp/oidc"
	"fedgate/idp/saml"
	"fedgate/idp/static"
)

// Types are the provider types, in the order people are offered them.
func Types() []idp.Type {
	return []idp.Type{
		oidc.Type(),
		saml.Type(),
		oauth2.Type(),
		static.Type(),
	}
}

// Lookup finds a type by name.
func Lookup(name string) (idp.Type, bool) {
	for _, t := range Types() {
		if t.Name == name {
			return t, true
		}
	}
	return idp.Type{}, false
}

// Names are the names of the types, for messages.
func Names() []string {
	var out []string
	for _, t := range Types() {
		out = append(out, t.Name)
	}
	return out
}
