//go:build tools

// Package tools pins the Argo CD command this wrapper module builds (one binary that runs as
// application controller, repo server or CLI, chosen by ARGOCD_BINARY_NAME).
package tools

import _ "github.com/argoproj/argo-cd/v3/cmd"
