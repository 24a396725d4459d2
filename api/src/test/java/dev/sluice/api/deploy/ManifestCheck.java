package dev.sluice.api.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks one rendered object field by field: a built-in kind through its fabric8 model class with
 * unknown fields refused ({@link Manifests#STRICT}); a custom resource against its
 * {@link CustomResourceShapes shape}; the configuration files inside ConfigMaps (the endpoint
 * picker's, the Prometheus Adapter's) against theirs. A kind with neither is an error too.
 */
final class ManifestCheck {

    static final Map<String, Class<?>> MODELS = Map.of(
            "v1 Service", Service.class,
            "v1 PersistentVolumeClaim", PersistentVolumeClaim.class,
            "v1 ConfigMap", ConfigMap.class,
            "v1 ServiceAccount", ServiceAccount.class,
            "apps/v1 Deployment", Deployment.class,
            "policy/v1 PodDisruptionBudget", PodDisruptionBudget.class,
            "autoscaling/v2 HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "rbac.authorization.k8s.io/v1 Role", Role.class,
            "rbac.authorization.k8s.io/v1 RoleBinding", RoleBinding.class);

    /** The files in ConfigMaps that are configuration of another program: data key, shape. */
    static final Map<String, Shape> CONFIG_FILES = Map.of(
            "epp-config.yaml", CustomResourceShapes.ENDPOINT_PICKER_CONFIG,
            "config.yaml", CustomResourceShapes.ADAPTER_CONFIG);

    private ManifestCheck() {
    }

    /** Every problem with {@code object}; empty when it is well-formed. */
    static List<String> problems(JsonNode object) {
        List<String> errors = new ArrayList<>();
        String what = Manifests.describe(object);
        String key = object.path("apiVersion").asText() + " " + object.path("kind").asText();
        Class<?> model = MODELS.get(key);
        Shape spec = CustomResourceShapes.SPECS.get(key);
        if (model != null) {
            strict(object, model, what, errors);
        } else if (spec != null) {
            object.properties().forEach(e -> {
                if (!Set.of("apiVersion", "kind", "metadata", "spec").contains(e.getKey())) {
                    errors.add(what + ": unknown top-level field " + e.getKey());
                }
            });
            strict(object.path("metadata"), ObjectMeta.class, what + " metadata", errors);
            spec.check(object.path("spec"), what + " spec", errors);
            JsonNode behavior = object.path("spec").path("advanced").path("horizontalPodAutoscalerConfig").path("behavior");
            if (!behavior.isMissingNode()) {
                strict(behavior, HorizontalPodAutoscalerBehavior.class, what + " HPA behavior", errors);
            }
        } else {
            errors.add(what + ": no model class or shape to check " + key + " against");
        }
        if (key.equals("v1 ConfigMap")) {
            object.path("data").properties().forEach(e -> {
                Shape file = CONFIG_FILES.get(e.getKey());
                if (file == null) {
                    errors.add(what + ": unexpected file " + e.getKey());
                    return;
                }
                configFile(e.getValue().asText(), file, what + " " + e.getKey(), errors);
            });
        }
        return errors;
    }

    private static void configFile(String text, Shape shape, String what, List<String> errors) {
        JsonNode config;
        try {
            config = Manifests.YAML.readTree(text);
        } catch (JsonProcessingException e) {
            errors.add(what + ": not YAML: " + e.getOriginalMessage());
            return;
        }
        shape.check(config, what, errors);
        for (JsonNode plugin : config.path("plugins")) {
            if (plugin.path("type").asText().equals("core-metrics-extractor")) {
                CustomResourceShapes.CORE_METRICS_EXTRACTOR.check(plugin.path("parameters"),
                        what + " core-metrics-extractor parameters", errors);
            }
        }
    }

    private static void strict(JsonNode node, Class<?> type, String what, List<String> errors) {
        try {
            Manifests.STRICT.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            errors.add(what + ": " + e.getOriginalMessage() + " at " + e.getLocation());
        }
    }
}
