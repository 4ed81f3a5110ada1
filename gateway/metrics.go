package gateway

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Surfaces label where a vend came from.
const (
	surfaceBrowser = "browser"
	surfaceAPI     = "api"
	surfaceCLI     = "cli"
	surfaceCognito = "cognito"
	surfaceAdmin   = "admin"
)

type ctxSurfaceKey struct{}

// metrics is the server's Prometheus registry (not the global one, so two
// servers in one process never share counters). Labels have bounded
// values: route templates, never raw paths, ids or claims.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	vends    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedgate_http_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		vends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedgate_vends_total",
			Help: "Credential vends attempted, by surface (browser, api, cli, cognito) and result (ok, refused).",
		}, []string{"surface", "result"}),
	}
	m.registry.MustRegister(m.requests, m.vends,
		// Goroutines, heap and RSS: what a soak watches for leaks.
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// withSurface tags a request's context with its surface, so a vend deep
// down knows where it came from (requestContext does it for every request).
func withSurface(ctx context.Context, surface string) context.Context {
	return context.WithValue(ctx, ctxSurfaceKey{}, surface)
}

// countRequests is middleware: it counts the request when it is done.
func (m *metrics) countRequests(c *gin.Context) {
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, methodLabel(c.Request.Method), strconv.Itoa(c.Writer.Status())).Inc()
}

// methodLabel keeps the method label to a fixed set: any token is a valid
// method on the wire, and each new label value is a series kept forever.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	default:
		return "OTHER"
	}
}

func surfaceOf(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/cli/"):
		return surfaceCLI
	case strings.HasPrefix(p, "/api/"):
		return surfaceAPI
	case strings.HasPrefix(p, "/admin"):
		return surfaceAdmin
	case r.Header.Get("X-Amz-Target") != "":
		return surfaceCognito
	default:
		return surfaceBrowser
	}
}

// countVend records one vend attempt of the request in ctx.
func (m *metrics) countVend(ctx context.Context, ok bool) {
	surface, _ := ctx.Value(ctxSurfaceKey{}).(string)
	if surface == "" {
		surface = "other"
	}
	result := "ok"
	if !ok {
		result = "refused"
	}
	m.vends.WithLabelValues(surface, result).Inc()
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		h.ServeHTTP(c.Writer, c.Request)
	}
}
