{{- define "fedgate.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fedgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fedgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fedgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fedgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "fedgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "fedgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fedgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The gateway's configuration file. */}}
{{- define "fedgate.config" -}}
server:
  listen: 0.0.0.0:8080
  ops_listen: 0.0.0.0:{{ .Values.ops.port }}
  public_url: {{ required "config.publicURL is required" .Values.config.publicURL | quote }}
  reload_interval: {{ .Values.config.reloadInterval }}
  shutdown_grace: {{ .Values.config.shutdownGrace }}
  {{- with .Values.config.trustedProxies }}
  trusted_proxies: {{ toJson . }}
  {{- end }}
  {{- if .Values.tls.secretName }}
  tls:
    cert_file: /etc/fedgate/tls/tls.crt
    key_file: /etc/fedgate/tls/tls.key
  {{- end }}
store:
  driver: postgres # the DSN comes from FEDGATE_STORE_DSN (a Secret)
keys:
  master_key: ${FEDGATE_MASTER_KEY}
{{- with .Values.config.mappingsSource }}
mappings:
  source: {{ . }}
{{- end }}
{{- with .Values.config.extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}
