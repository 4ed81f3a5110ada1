package cognito

import (
	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

// signedOps are the operations AWS signs, with the role each needs: a
// viewer's key reads, an editor's key also changes.
func (api *API) signedOps() map[string]signedOp {
	read := func(h func(*gin.Context, []byte) (any, *core.Error)) signedOp {
		return signedOp{role: config.AdminViewer, handler: h}
	}
	change := func(h func(*gin.Context, []byte) (any, *core.Error)) signedOp {
		return signedOp{role: config.AdminEditor, handler: h}
	}
	return map[string]signedOp{
		"ListIdentityPools":    read(api.listIdentityPools),
		"DescribeIdentityPool": read(api.describeIdentityPool),
		"DescribeIdentity":     read(api.describeIdentity),
		"ListIdentities":       read(api.listIdentities),
		"DeleteIdentities":     change(api.deleteIdentities),

		"CreateIdentityPool":          change(api.createIdentityPool),
		"DeleteIdentityPool":          change(api.deleteIdentityPool),
		"UpdateIdentityPool":          change(api.updateIdentityPool),
		"SetIdentityPoolRoles":        change(api.setIdentityPoolRoles),
		"GetIdentityPoolRoles":        read(api.getIdentityPoolRoles),
		"GetPrincipalTagAttributeMap": read(api.getPrincipalTagAttributeMap),
		"ListTagsForResource":         read(api.listTagsForResource),
		"SetPrincipalTagAttributeMap": change(api.setPrincipalTagAttributeMap),
		"TagResource":                 change(api.tagResource),
		"UntagResource":               change(api.untagResource),

		// Minting a developer identity's token creates and links
		// identities and lets its holder vend: a change, not a read.
		"GetOpenIdTokenForDeveloperIdentity": change(api.getOpenIDTokenForDeveloperIdentity),
		"LookupDeveloperIdentity":            read(api.lookupDeveloperIdentity),
		"MergeDeveloperIdentities":           change(api.mergeDeveloperIdentities),
		"UnlinkDeveloperIdentity":            change(api.unlinkDeveloperIdentity),
	}
}
