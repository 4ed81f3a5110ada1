// Package admin is the admin surface (/admin): the web UI and the JSON API
// where platform admins connect identity providers, edit pools and rules,
// simulate decisions, read the history (and restore a version) and search
// the audit log.
//
// Admins sign in through one of admin.providers (a browser sign-in that
// ends in an admin session) and get a role from the admin rules;
// automation presents the API token. Everything else under /admin is
// refused.
package admin

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/exchange/secret"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/signin"
	"fedgate/gateway/store"
)

// Codes of the admin API, besides the core's.
const (
	CodeForbidden            = "forbidden"
	CodeInvalidMappings      = "invalid_mappings"
	CodePreconditionFailed   = "precondition_failed"
	CodePreconditionRequired = "precondition_required"
	CodeConflict             = "conflict"
	// CodeMappingsFromFile refuses a change when mappings.source is file.
	CodeMappingsFromFile = "mappings_from_file"
)

// Admin serves /admin.
type Admin struct {
	core   *core.Core
	kit    *httpkit.Kit
	signin *signin.Service
	cfg    *config.File
	store  store.Store
	box    *secret.Box
	log    *slog.Logger
	rand   io.Reader
	// rules are the admin rules of the file configuration, compiled once:
	// they are validated at load and do not change at run time. nil when
	// they do not compile (then nobody signs in as an admin).
	rules *rules.Mapping
	// openAPIDoc is the API's OpenAPI document, built once.
	openAPIDoc []byte
}

// New builds the admin surface and registers, with the sign-in service,
// how an admin sign-in ends: in an admin session.
func New(c *core.Core, kit *httpkit.Kit, in *signin.Service) *Admin {
	cfg := c.Config()
	s := &Admin{
		core: c, kit: kit, signin: in, cfg: cfg, store: c.Store(), box: c.Box(), log: c.Logger(), rand: c.Rand(),
	}
	if m, problems := cfg.Admin.CompileAdminRules(); len(problems) == 0 {
		s.rules = m
	}
	doc, err := openAPIDoc()
	if err != nil {
		panic(fmt.Sprintf("admin: the embedded OpenAPI document: %v", err)) // embedded at build time; a test parses it
	}
	s.openAPIDoc = doc
	in.Register(kindSignIn, s.signInContinuation())
	return s
}

// Mount adds /admin. Refusals of the password form are audited as admin
// sign-ins; a sign-in that gets through is audited where it ends, and
// every change with the version that stores it.
func (s *Admin) Mount(r *gin.Engine) {
	// Public: the sign-in entry points.
	r.GET("/admin/login/:provider", s.startLogin)
	r.POST("/admin/login/:provider", s.kit.AuditRefusals(store.AuditAdminSignIn), s.passwordLogin)

	view, edit, own := s.authorize(config.AdminViewer), s.authorize(config.AdminEditor), s.authorize(config.AdminOwner)
	api := r.Group("/admin/api/v1")
	api.GET("/openapi.json", s.openAPI)
	api.GET("/me", view, s.apiMe)
	api.GET("/mappings", view, s.apiGetMappings)
	api.GET("/mappings/export", view, s.apiExportMappings)
	api.PUT("/mappings", own, s.apiPutMappings)
	api.GET("/providers", view, s.apiListProviders)
	api.POST("/providers", edit, s.apiCreateProvider)
	api.GET("/providers/:id", view, s.apiGetProvider)
	api.PUT("/providers/:id", edit, s.apiPutProvider)
	api.DELETE("/providers/:id", edit, s.apiDeleteProvider)
	api.GET("/pools", view, s.apiListPools)
	api.POST("/pools", edit, s.apiCreatePool)
	api.GET("/pools/:pool", view, s.apiGetPool)
	api.PUT("/pools/:pool", edit, s.apiPutPool)
	api.DELETE("/pools/:pool", edit, s.apiDeletePool)
	api.GET("/pools/:pool/rules", view, s.apiListRules)
	api.POST("/pools/:pool/rules", edit, s.apiCreateRule)
	api.PUT("/pools/:pool/rules", edit, s.apiReorderRules)
	api.GET("/pools/:pool/rules/:index", view, s.apiGetRule)
	api.PUT("/pools/:pool/rules/:index", edit, s.apiPutRule)
	api.DELETE("/pools/:pool/rules/:index", edit, s.apiDeleteRule)
	api.GET("/pools/:pool/trust-policy", view, s.apiTrustPolicy)
	api.POST("/simulate", view, s.apiSimulate)
	api.GET("/versions", view, s.apiListVersions)
	api.GET("/versions/:version", view, s.apiGetVersion)
	api.POST("/versions/:version/restore", own, s.apiRestoreVersion)
	api.GET("/audit", view, s.apiListAudit)
	api.GET("/audit/export", view, s.apiExportAudit)
	api.GET("/access-keys", own, s.apiListAccessKeys)
	api.POST("/access-keys", own, s.apiCreateAccessKey)
	api.POST("/access-keys/:id/disable", own, s.apiAccessKeyAction("disable"))
	api.POST("/access-keys/:id/enable", own, s.apiAccessKeyAction("enable"))
	api.POST("/access-keys/:id/rotate", own, s.apiAccessKeyAction("rotate"))
	api.DELETE("/access-keys/:id", own, s.apiDeleteAccessKey)

	ui := r.Group("/admin")
	ui.GET("", view, s.uiHome)
	ui.POST("/logout", s.signOut)
	ui.GET("/providers/:id", view, s.uiProvider)
	ui.POST("/providers/:id", edit, s.uiSaveProvider)
	ui.POST("/providers/:id/delete", edit, s.uiDeleteProvider)
	ui.GET("/pools/:pool", view, s.uiPool)
	ui.POST("/pools/:pool", edit, s.uiSavePool)
	ui.GET("/pools/:pool/delete", edit, s.uiConfirmDeletePool)
	ui.POST("/pools/:pool/delete", edit, s.uiDeletePool)
	ui.GET("/pools/:pool/rules/:index", view, s.uiRule)
	ui.POST("/pools/:pool/rules/:index", edit, s.uiSaveRule)
	ui.GET("/pools/:pool/rules/:index/delete", edit, s.uiConfirmDeleteRule)
	ui.POST("/pools/:pool/rules/:index/delete", edit, s.uiDeleteRule)
	ui.POST("/pools/:pool/rules/:index/move", edit, s.uiMoveRule)
	ui.GET("/simulate", view, s.uiSimulate)
	ui.POST("/simulate", view, s.uiSimulate)
	ui.GET("/history", view, s.uiHistory)
	ui.GET("/history/:version", view, s.uiVersion)
	ui.POST("/history/:version/restore", own, s.uiRestore)
	ui.GET("/audit", view, s.uiAudit)
	ui.GET("/access-keys", own, s.uiAccessKeys)
	ui.POST("/access-keys", own, s.uiCreateAccessKey)
	for _, action := range []string{"disable", "enable", "rotate", "delete"} {
		ui.POST("/access-keys/:id/"+action, own, s.uiAccessKeyAction(action))
	}
}
