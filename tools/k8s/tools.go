//go:build tools

// Package tools pins the Kubernetes commands this wrapper module builds: the test control
// plane's kube-apiserver and kubectl, and the single-node cluster's kubelet,
// kube-controller-manager, kube-scheduler and kube-proxy.
package tools

import (
	_ "k8s.io/kube-proxy/config/v1alpha1"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
