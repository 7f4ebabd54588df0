// Command argocd-health evaluates the health of Kubernetes objects exactly as Argo CD's
// application controller does: it loads the resource customizations from an argocd-cm
// ConfigMap through Argo CD's own settings manager (the code path the controller and
// `argocd admin settings resource-overrides health` use) and calls gitops-engine's
// health.GetResourceHealth with lua.ResourceHealthOverrides, so the Lua sandbox, the
// useOpenLibs setting and the wildcard (grouped) keys behave as they do in a cluster.
//
// Usage: argocd-health ARGOCD_CM_YAML OBJECT_FILE...
//
// Each OBJECT_FILE holds one object (JSON or YAML). One JSON line per object is written to
// stdout: {"file", "status", "message", "error"}; status is empty when no health check
// applies to the object's kind. The exit status is 0 when every object was evaluated
// (a Lua error is a result, reported in "error" with status Unknown, as the controller does).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/gitops-engine/pkg/health"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
)

// namespace is where the fake clientset holds argocd-cm and argocd-secret; the settings
// manager only finds ConfigMaps labelled part-of argocd in the namespace it is given.
const namespace = "argocd"

type result struct {
	File    string `json:"file"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health ARGOCD_CM_YAML OBJECT_FILE...")
		os.Exit(2)
	}
	overrides, err := loadOverrides(context.Background(), os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "argocd-health: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	healthOverrides := lua.ResourceHealthOverrides(overrides)
	out := json.NewEncoder(os.Stdout)
	for _, path := range os.Args[2:] {
		res, err := evaluate(path, healthOverrides)
		if err != nil {
			fmt.Fprintf(os.Stderr, "argocd-health: %s: %v\n", path, err)
			os.Exit(1)
		}
		if err := out.Encode(res); err != nil {
			fmt.Fprintf(os.Stderr, "argocd-health: %v\n", err)
			os.Exit(1)
		}
	}
}

// loadOverrides reads the resource customizations the way the controller does: argocd-cm
// (and a minimal argocd-secret, which the settings manager requires) served by a clientset,
// read back through SettingsManager.GetResourceOverrides.
func loadOverrides(ctx context.Context, cmPath string) (map[string]v1alpha1.ResourceOverride, error) {
	data, err := os.ReadFile(cmPath)
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(data, &cm); err != nil {
		return nil, err
	}
	if cm.Name != common.ArgoCDConfigMapName {
		return nil, fmt.Errorf("ConfigMap is named %q, Argo CD reads only %q", cm.Name, common.ArgoCDConfigMapName)
	}
	labelled(&cm.ObjectMeta)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: common.ArgoCDSecretName},
		Data:       map[string][]byte{"server.secretkey": []byte("unused")},
	}
	labelled(&secret.ObjectMeta)
	manager := settings.NewSettingsManager(ctx, fake.NewClientset(&cm, secret), namespace)
	if err := manager.ResyncInformers(); err != nil {
		return nil, err
	}
	return manager.GetResourceOverrides()
}

func labelled(meta *metav1.ObjectMeta) {
	meta.Namespace = namespace
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	meta.Labels["app.kubernetes.io/part-of"] = "argocd"
}

func evaluate(path string, overrides health.HealthOverride) (result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return result{}, err
	}
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal(data, &obj.Object); err != nil {
		return result{}, err
	}
	res := result{File: path}
	status, err := health.GetResourceHealth(&obj, overrides)
	if err != nil {
		res.Error = err.Error()
	}
	if status != nil {
		res.Status = string(status.Status)
		res.Message = status.Message
	}
	return res, nil
}
