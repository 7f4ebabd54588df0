{{/*
Names, labels and the few derived values every template shares.
*/}}

{{- define "modelarts-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name when it already contains the chart name.
*/}}
{{- define "modelarts-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "modelarts-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "modelarts-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelarts-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "modelarts-operator.labels" -}}
helm.sh/chart: {{ include "modelarts-operator.chart" . }}
{{ include "modelarts-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: modelarts-operator
{{- end }}

{{- define "modelarts-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "modelarts-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "modelarts-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Name of the default credentials Secret ("" when none): the existing one or the created one.
Fails when both are configured, so a typo can never silently pick the wrong Secret.
*/}}
{{- define "modelarts-operator.credentialsSecretName" -}}
{{- $c := .Values.credentials }}
{{- if and $c.create $c.existingSecret }}
{{- fail "credentials: set either existingSecret or create=true, not both" }}
{{- end }}
{{- if $c.existingSecret }}
{{- $c.existingSecret }}
{{- else if $c.create }}
{{- printf "%s-credentials" (include "modelarts-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "modelarts-operator.leaseName" -}}
{{- default (include "modelarts-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
Namespaces served: the watch list in Namespaced scope (validated non-empty), none otherwise.
*/}}
{{- define "modelarts-operator.namespaced" -}}
{{- if eq .Values.scope "Namespaced" }}
{{- if not .Values.watchNamespaces }}
{{- fail "scope=Namespaced needs at least one entry in watchNamespaces" }}
{{- end }}
{{- "true" }}
{{- else if .Values.watchNamespaces }}
{{- fail "watchNamespaces is only used with scope=Namespaced (Cluster scope serves every namespace)" }}
{{- end }}
{{- end }}

{{/*
Rules for the ModelArts kinds and the namespaced objects the operator touches.
The same list goes into the ClusterRole (Cluster scope) or each namespace's Role. The kinds'
rules (their resources, status, finalizers and what each kind declares beyond them) are
rendered from the kinds' declarations into _kinds.tpl by `make crds`; the operator-wide ones
follow.
*/}}
{{- define "modelarts-operator.namespacedRules" -}}
{{ include "modelarts-operator.kindRules" . }}
# Kubernetes events for every remote action and failure (kopf posts core/v1 events).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- with include "modelarts-operator.credentialsSecretNames" . }}
# Credentials: only the Secrets with these names (the default Secret, and the names a
# Namespace's modelarts.huaweicloud.com/credentials-secret annotation may name), each read and
# watched by name. Every other Secret is unreadable.
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: {{ . }}
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end }}

{{/*
The credentials Secret names the operator may read, as a JSON list; empty when there are none
(an RBAC rule with no resourceNames would grant every Secret, so the rule is then left out).
*/}}
{{- define "modelarts-operator.credentialsSecretNames" -}}
{{- $names := .Values.credentials.namespaceSecretNames | default list }}
{{- with include "modelarts-operator.credentialsSecretName" . }}
{{- $names = append $names . }}
{{- end }}
{{- if $names }}
{{- $names | uniq | toJson }}
{{- end }}
{{- end }}
