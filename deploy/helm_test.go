// Package deploy tests what deploy/ ships for Kubernetes: the Helm chart is
// rendered by the real Helm v4 and every object it renders is decoded
// strictly with the Kubernetes API types (an unknown or misplaced field is
// an error), then checked for what an operator relies on. It is a module of
// its own so the product's go.mod stays free of the Kubernetes libraries.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const chartDir = "helm/fedgate"

// rendered is the chart's output for one values file, by kind.
type rendered struct {
	deployment     *appsv1.Deployment
	service        *corev1.Service
	configMap      *corev1.ConfigMap
	serviceAccount *corev1.ServiceAccount
	pdb            *policyv1.PodDisruptionBudget
	ingress        *networkingv1.Ingress
	serviceMonitor *monitoringv1.ServiceMonitor
	config         map[string]any // fedgate.yaml from the ConfigMap
	raw            string
}

// helmBinary finds helm; missing, it skips locally and fails under CI=true.
func helmBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("helm")
	if err != nil {
		msg := "helm is not on PATH (go install helm.sh/helm/v4/cmd/helm@v4.3.2)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	out, err := exec.Command(p, "version", "--short").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "v4.") {
		t.Fatalf("helm version: %v %s; want Helm v4", err, out)
	}
	return p
}

// helmTemplate runs `helm template` with args and returns stdout, or the
// error with stderr.
func helmTemplate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), append([]string{"template", "fedgate", chartDir, "--namespace", "gateways"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", errors.New(err.Error() + ": " + stderr.String())
	}
	return stdout.String(), nil
}

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// render renders the chart with the values files and decodes every object
// strictly; an object of a kind the test does not know fails it.
func render(t *testing.T, args ...string) rendered {
	t.Helper()
	out, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	decoder := serializer.NewCodecFactory(scheme(t), serializer.EnableStrict).UniversalDeserializer()
	r := rendered{raw: out}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if isEmptyDoc(doc) {
			continue
		}
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("strict decode: %v\n%s", err, doc)
		}
		twice := func(seen bool) {
			if seen {
				t.Errorf("the chart renders two %s objects", gvk.Kind)
			}
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			twice(r.deployment != nil)
			r.deployment = o
		case *corev1.Service:
			twice(r.service != nil)
			r.service = o
		case *corev1.ConfigMap:
			twice(r.configMap != nil)
			r.configMap = o
		case *corev1.ServiceAccount:
			twice(r.serviceAccount != nil)
			r.serviceAccount = o
		case *policyv1.PodDisruptionBudget:
			twice(r.pdb != nil)
			r.pdb = o
		case *networkingv1.Ingress:
			twice(r.ingress != nil)
			r.ingress = o
		case *monitoringv1.ServiceMonitor:
			twice(r.serviceMonitor != nil)
			r.serviceMonitor = o
		default:
			t.Fatalf("unexpected object %s", gvk)
		}
	}
	if r.deployment == nil || r.service == nil || r.configMap == nil {
		t.Fatalf("the chart renders no Deployment, Service or ConfigMap:\n%s", out)
	}
	file, ok := r.configMap.Data["fedgate.yaml"]
	if !ok {
		t.Fatalf("ConfigMap has no fedgate.yaml: %v", r.configMap.Data)
	}
	if err := yaml.UnmarshalStrict([]byte(file), &r.config); err != nil {
		t.Fatalf("fedgate.yaml in the ConfigMap: %v\n%s", err, file)
	}
	return r
}

func isEmptyDoc(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		if l := strings.TrimSpace(line); l != "" && l != "---" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// lookup walks a path of keys in the decoded fedgate.yaml.
func lookup(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func TestChartDefaults(t *testing.T) {
	r := render(t)
	checkDeployment(t, r, 2, "fedgate-store", "dsn", "fedgate-master-key", "master-key")
	if r.ingress != nil || r.serviceMonitor != nil {
		t.Errorf("Ingress or ServiceMonitor rendered by default")
	}
	if r.pdb == nil || r.pdb.Spec.MinAvailable == nil || r.pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Fatalf("PodDisruptionBudget = %+v, want minAvailable 1", r.pdb)
	}
	checkSelects(t, "PodDisruptionBudget", r.pdb.Spec.Selector.MatchLabels, r)
	if r.serviceAccount == nil || r.serviceAccount.AutomountServiceAccountToken == nil || *r.serviceAccount.AutomountServiceAccountToken {
		t.Errorf("ServiceAccount mounts its token: %+v", r.serviceAccount)
	}
	if lookup(r.config, "server", "tls") != nil {
		t.Errorf("fedgate serves TLS itself without tls.secretName: %v", r.config["server"])
	}
}

func TestChartFullValues(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "full-values.yaml"))
	checkDeployment(t, r, 3, "fedgate-db", "url", "fedgate-keys", "master")
	pod := r.deployment.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "registry.example.com/platform/fedgate:1.4.2" {
		t.Errorf("image = %s", c.Image)
	}
	if r.pdb == nil || r.pdb.Spec.MinAvailable.IntValue() != 2 {
		t.Errorf("PodDisruptionBudget = %+v, want minAvailable 2", r.pdb)
	}

	// The client secret reaches fedgate from its Secret, never as a value.
	if ref := envSecret(c, "CORP_CLIENT_SECRET"); ref == nil || ref.Name != "fedgate-idp" || ref.Key != "corp-client-secret" {
		t.Errorf("CORP_CLIENT_SECRET from %+v", ref)
	}
	if lookup(r.config, "providers") == nil || lookup(r.config, "pools") == nil {
		t.Errorf("config.extra did not reach fedgate.yaml:\n%s", r.configMap.Data["fedgate.yaml"])
	}
	if got := lookup(r.config, "mappings", "source"); got != "file" {
		t.Errorf("mappings.source = %v, want file", got)
	}

	// fedgate serves TLS from the Secret, mounted where the config says.
	certFile, _ := lookup(r.config, "server", "tls", "cert_file").(string)
	keyFile, _ := lookup(r.config, "server", "tls", "key_file").(string)
	mount := mountOf(c, "tls")
	vol := volumeOf(pod, "tls")
	if mount == nil || vol == nil || vol.Secret == nil || vol.Secret.SecretName != "fedgate-serving-cert" {
		t.Fatalf("tls volume %+v mounted at %+v, want Secret fedgate-serving-cert", vol, mount)
	}
	if certFile != mount.MountPath+"/tls.crt" || keyFile != mount.MountPath+"/tls.key" || !mount.ReadOnly {
		t.Errorf("server.tls = %s, %s; the Secret is at %s (read-only %v)", certFile, keyFile, mount.MountPath, mount.ReadOnly)
	}

	ing := r.ingress
	if ing == nil {
		t.Fatal("no Ingress with ingress.enabled")
	}
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "sso-example-com" || len(ing.Spec.TLS[0].Hosts) != 1 || ing.Spec.TLS[0].Hosts[0] != "sso.example.com" {
		t.Errorf("Ingress TLS = %+v", ing.Spec.TLS)
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
		t.Errorf("Ingress class = %v", ing.Spec.IngressClassName)
	}
	backend := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	if ing.Spec.Rules[0].Host != "sso.example.com" || backend.Name != r.service.Name || !servicePortNamed(r.service, backend.Port.Name) || backend.Port.Name != "http" {
		t.Errorf("Ingress routes %s to %s:%s; want the Service's http port", ing.Spec.Rules[0].Host, backend.Name, backend.Port.Name)
	}

	sm := r.serviceMonitor
	if sm == nil {
		t.Fatal("no ServiceMonitor with serviceMonitor.enabled")
	}
	if sm.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels = %v", sm.Labels)
	}
	if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(r.service.Labels)) {
		t.Errorf("ServiceMonitor selects %v, the Service is labelled %v", sm.Spec.Selector.MatchLabels, r.service.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "ops" || sm.Spec.Endpoints[0].Path != "/metrics" || !servicePortNamed(r.service, "ops") {
		t.Errorf("ServiceMonitor endpoints = %+v; want /metrics on the Service's ops port", sm.Spec.Endpoints)
	}
}

// The chart refuses values that would deploy something broken.
func TestChartRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no replicas", []string{"--set", "replicaCount=0"}, "replicaCount must be at least 1"},
		{"no store secret", []string{"--set", "secrets.storeDSN.name="}, "secrets.storeDSN"},
		{"no master key secret", []string{"--set", "secrets.masterKey.key="}, "secrets.masterKey"},
		{"no public URL", []string{"--set", "config.publicURL="}, "config.publicURL is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helmTemplate(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template %v: err = %v, want %q\n%s", tc.args, err, tc.want, out)
			}
		})
	}
}

// checkDeployment checks what every rendering must hold: replicas on
// PostgreSQL with their secrets from Secrets, the restrictive security
// context, probes on the ops port, resources, and a Service in front.
func checkDeployment(t *testing.T, r rendered, replicas int32, dsnSecret, dsnKey, keySecret, keyKey string) {
	t.Helper()
	d := r.deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas != replicas {
		t.Errorf("replicas = %v, want %d", d.Spec.Replicas, replicas)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v may take a replica down before its successor is ready", ru)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	// Security context: non-root, read-only root, no escalation, no
	// capabilities, the runtime's seccomp profile; no API token mounted.
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v", psc)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container has no securityContext")
	}
	for _, want := range []struct {
		setting string
		ok      bool
		got     any
	}{
		{"runAsNonRoot", isTrue(sc.RunAsNonRoot), sc.RunAsNonRoot},
		{"readOnlyRootFilesystem", isTrue(sc.ReadOnlyRootFilesystem), sc.ReadOnlyRootFilesystem},
		{"allowPrivilegeEscalation: false", sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, sc.AllowPrivilegeEscalation},
		{"not privileged", !isTrue(sc.Privileged), sc.Privileged},
		{"capabilities: drop ALL, add none", sc.Capabilities != nil && len(sc.Capabilities.Add) == 0 && len(sc.Capabilities.Drop) == 1 && sc.Capabilities.Drop[0] == "ALL", sc.Capabilities},
		{"seccompProfile RuntimeDefault", sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile},
	} {
		if !want.ok {
			t.Errorf("container securityContext: want %s, got %+v", want.setting, want.got)
		}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it never uses")
	}
	// A read-only root still needs a writable /tmp.
	if m := mountOf(c, "tmp"); m == nil || m.MountPath != "/tmp" || volumeOf(pod, "tmp") == nil || volumeOf(pod, "tmp").EmptyDir == nil {
		t.Errorf("no emptyDir at /tmp: %+v", c.VolumeMounts)
	}

	// The configuration: from the ConfigMap, on PostgreSQL, ops listener on
	// the probes' port, secrets only as ${VAR}.
	if m := mountOf(c, "config"); m == nil || m.MountPath != "/etc/fedgate/fedgate.yaml" || !m.ReadOnly || volumeOf(pod, "config").ConfigMap.Name != r.configMap.Name {
		t.Errorf("config mount %+v", m)
	}
	for _, want := range []struct {
		path  []string
		value string
	}{
		{[]string{"store", "driver"}, "postgres"},
		{[]string{"keys", "master_key"}, "${FEDGATE_MASTER_KEY}"},
	} {
		if got := lookup(r.config, want.path...); got != want.value {
			t.Errorf("%s = %v, want %s", strings.Join(want.path, "."), got, want.value)
		}
	}
	if u, _ := lookup(r.config, "server", "public_url").(string); !strings.HasPrefix(u, "https://") {
		t.Errorf("server.public_url = %q, want https", u)
	}
	opsPort := containerPort(c, "ops")
	if got, _ := lookup(r.config, "server", "ops_listen").(string); opsPort == 0 || !strings.HasSuffix(got, ":"+itoa(opsPort)) {
		t.Errorf("server.ops_listen = %q, the container's ops port is %d", got, opsPort)
	}
	if got, _ := lookup(r.config, "server", "listen").(string); containerPort(c, "http") == 0 || !strings.HasSuffix(got, ":"+itoa(containerPort(c, "http"))) {
		t.Errorf("server.listen = %q, the container's http port is %d", got, containerPort(c, "http"))
	}

	// Secrets come from Secrets, never as literal values.
	for _, want := range []struct{ env, secret, key string }{
		{"FEDGATE_STORE_DSN", dsnSecret, dsnKey},
		{"FEDGATE_MASTER_KEY", keySecret, keyKey},
	} {
		if ref := envSecret(c, want.env); ref == nil || ref.Name != want.secret || ref.Key != want.key {
			t.Errorf("%s from %+v, want %s/%s", want.env, ref, want.secret, want.key)
		}
	}
	for _, e := range c.Env {
		if e.Value != "" && (strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "KEY") || strings.Contains(e.Name, "DSN")) {
			t.Errorf("env %s has a literal value", e.Name)
		}
	}

	// Probes: liveness on /healthz and readiness on /readyz, both on the
	// ops port.
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		want := map[string]string{"liveness": "/healthz", "readiness": "/readyz", "startup": "/readyz"}[name]
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "ops" {
			t.Errorf("%s probe = %+v, want GET %s on the ops port", name, p, want)
		}
	}

	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want cpu and memory requests and a memory limit", c.Resources)
	}

	checkSelects(t, "Service", r.service.Spec.Selector, r)
	for _, p := range r.service.Spec.Ports {
		if containerPort(c, p.TargetPort.String()) == 0 {
			t.Errorf("Service port %s targets %s, which the container lacks", p.Name, p.TargetPort.String())
		}
	}
	if !servicePortNamed(r.service, "http") {
		t.Error("Service has no http port")
	}
}

// checkSelects fails when sel does not select the Deployment's pods.
func checkSelects(t *testing.T, what string, sel map[string]string, r rendered) {
	t.Helper()
	pods := labels.Set(r.deployment.Spec.Template.Labels)
	if len(sel) == 0 || !labels.SelectorFromSet(sel).Matches(pods) {
		t.Errorf("%s selects %v; the pods are labelled %v", what, sel, pods)
	}
}

func envSecret(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

func mountOf(c corev1.Container, name string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volumeOf(pod corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func servicePortNamed(s *corev1.Service, name string) bool {
	for _, p := range s.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func isTrue(b *bool) bool { return b != nil && *b }

// The configuration the chart renders passes `fedgate check` of the binary
// named by FEDGATE_BIN (.ci/packaging sets it to the binary the image
// ships), with the Secrets' variables set as the pod would have them.
func TestChartConfigPassesFedgateCheck(t *testing.T) {
	bin := os.Getenv("FEDGATE_BIN")
	if bin == "" {
		msg := "FEDGATE_BIN names no fedgate binary (bash deploy/build.sh, then FEDGATE_BIN=dist/fedgate)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dsn := os.Getenv("FEDGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	for name, args := range map[string][]string{
		"defaults": nil,
		// fedgate's own TLS needs the Secret's files, which only the pod has.
		"full values": {"-f", filepath.Join(chartDir, "ci", "full-values.yaml"), "--set", "tls.secretName="},
	} {
		t.Run(name, func(t *testing.T) {
			r := render(t, args...)
			path := filepath.Join(t.TempDir(), "fedgate.yaml")
			if err := os.WriteFile(path, []byte(r.configMap.Data["fedgate.yaml"]), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "check", "--config", path)
			cmd.Env = append(os.Environ(), "FEDGATE_STORE_DSN="+dsn,
				"FEDGATE_MASTER_KEY=3q2+7w0eHh4fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8=", // test-only key
				"CORP_CLIENT_SECRET=example-secret")
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "OK") {
				t.Errorf("fedgate check on the rendered configuration: %v\n%s\n%s", err, out, r.configMap.Data["fedgate.yaml"])
			}
		})
	}
}
