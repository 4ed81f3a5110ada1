package core

import (
	"strings"

	"fedgate/gateway/config"
)

// samlTrust (issue 3) trusts the pool's IAM SAML provider for
// AssumeRoleWithSAML, on the audience STS checks (SAML:aud is the endpoint
// the assertion is addressed to).
func samlTrust(f *config.File, pool *config.Pool, tagged bool) policyDocument {
	aud := config.DefaultSAMLSignInURL
	if pool.Mode == config.ModeSAMLBroker {
		aud = f.SAMLBroker.SignInURL
	}
	actions := []string{"sts:AssumeRoleWithSAML"}
	if tagged && pool.Mode == config.ModeSAMLBroker {
		actions = append(actions, "sts:TagSession")
	}
	return trustPolicy(federatedStatement(pool.SAMLProviderARN, actions, "SAML:aud", aud))
}

// samlRegistration says how the pool's IAM SAML provider is made: from
// fedgate's broker metadata, or from the upstream IdP's own metadata.
func samlRegistration(f *config.File, pool *config.Pool, rep *TrustReport) {
	name := pool.SAMLProviderARN[strings.LastIndex(pool.SAMLProviderARN, "/")+1:]
	switch pool.Mode {
	case config.ModeSAMLBroker:
		rep.RegisterWhat = "fedgate's SAML broker as an IAM SAML provider (metadata from `fedgate saml-metadata`, or " + f.SAMLIdPMetadataURL() + ")"
		rep.RegisterIn = "fedgate saml-metadata --config FILE > fedgate-idp.xml\n" +
			"aws iam create-saml-provider --name " + name + " --saml-metadata-document file://fedgate-idp.xml"
	case config.ModeSAMLForward:
		rep.RegisterWhat = "the upstream SAML IdP as an IAM SAML provider (its own metadata)"
		rep.RegisterIn = "aws iam create-saml-provider --name " + name + " --saml-metadata-document file://idp-metadata.xml"
	}
}
