package gateway

// SAML IdP metadata fetched by URL is refreshed on a schedule, not only
// when someone signs in: a rotated IdP key is picked up before the first
// sign-in that needs it, and a failing refresh is reported (a WARN line
// once per failure streak, and metrics) while the last good copy stays in
// use. /readyz stays green meanwhile: sign-ins still work.

// initSAMLMetrics registers the collector on the server's registry.
func (s *Server) initSAMLMetrics() {
	s.cli.metrics.registry.MustRegister(s.core.SAMLMetadataCollector())
}
