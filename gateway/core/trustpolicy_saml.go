package core

import (
	"strings"

	"fedgate/exchange"
	"fedgate/gateway/config"
)

// samlTrust trusts the pool's IAM SAML provider for AssumeRoleWithSAML, on
// the audience STS checks (SAML:aud is the endpoint the assertion is
// addressed to): the broker's sign-in URL when fedgate signs the response,
// AWS's own when the upstream IdP does.
func samlTrust(f *config.File, pool *config.Pool, spec exchange.ModeSpec, tagged bool) policyDocument {
	aud := config.DefaultSAMLSignInURL
	if spec.Forwards == exchange.ForwardNothing {
		aud = f.SAMLBroker.SignInURL
	}
	actions := []string{spec.Trust.STSAction()}
	if tagged {
		actions = append(actions, "sts:TagSession")
	}
	return trustPolicy(federatedStatement(pool.SAMLProviderARN, actions, "SAML:aud", aud))
}

// samlRegistration says how the pool's IAM SAML provider is made: from
// fedgate's broker metadata when fedgate signs the response, or from the
// upstream IdP's own metadata.
func samlRegistration(f *config.File, pool *config.Pool, spec exchange.ModeSpec, rep *TrustReport) {
	name := pool.SAMLProviderARN[strings.LastIndex(pool.SAMLProviderARN, "/")+1:]
	if spec.Forwards == exchange.ForwardNothing {
		rep.RegisterWhat = "fedgate's SAML broker as an IAM SAML provider (metadata from `fedgate saml-metadata`, or " + f.SAMLIdPMetadataURL() + ")"
		rep.RegisterIn = "fedgate saml-metadata --config FILE > fedgate-idp.xml\n" +
			"aws iam create-saml-provider --name " + name + " --saml-metadata-document file://fedgate-idp.xml"
		return
	}
	rep.RegisterWhat = "the upstream SAML IdP as an IAM SAML provider (its own metadata)"
	rep.RegisterIn = "aws iam create-saml-provider --name " + name + " --saml-metadata-document file://idp-metadata.xml"
}
