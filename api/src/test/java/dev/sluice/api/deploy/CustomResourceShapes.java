package dev.sluice.api.deploy;

import java.util.Map;

import static dev.sluice.api.deploy.Shape.ANY;
import static dev.sluice.api.deploy.Shape.of;
import static dev.sluice.api.deploy.Shape.scalars;

/**
 * The allowed fields of the custom resources and configuration files in deploy/kubernetes, from
 * their published API types: the Prometheus Operator's monitoring.coreos.com/v1 ServiceMonitor,
 * KEDA's keda.sh/v1alpha1 ScaledObject, GIE v1.5.0's InferencePool and EndpointPickerConfig,
 * Gateway API v1's HTTPRoute, and the Prometheus Adapter's rule file. Metadata is checked with
 * fabric8's ObjectMeta, and KEDA's HPA behavior with fabric8's HorizontalPodAutoscalerBehavior.
 */
final class CustomResourceShapes {

    private static final Shape SELECTOR = of("matchLabels", ANY, "matchExpressions", ANY);

    /** Custom resources by "apiVersion kind": their spec's shape. */
    static final Map<String, Shape> SPECS = Map.of(
            "monitoring.coreos.com/v1 ServiceMonitor", of(
                    "selector", SELECTOR,
                    "namespaceSelector", scalars("any", "matchNames"),
                    "jobLabel", ANY, "targetLabels", ANY, "podTargetLabels", ANY, "sampleLimit", ANY,
                    "endpoints", scalars("port", "targetPort", "path", "scheme", "params", "interval",
                            "scrapeTimeout", "honorLabels", "honorTimestamps", "tlsConfig", "authorization",
                            "bearerTokenSecret", "basicAuth", "oauth2", "relabelings", "metricRelabelings",
                            "followRedirects", "enableHttp2", "filterRunning")),
            "keda.sh/v1alpha1 ScaledObject", of(
                    "scaleTargetRef", scalars("apiVersion", "kind", "name", "envSourceContainerName"),
                    "minReplicaCount", ANY, "maxReplicaCount", ANY, "idleReplicaCount", ANY,
                    "pollingInterval", ANY, "cooldownPeriod", ANY, "initialCooldownPeriod", ANY,
                    "fallback", scalars("failureThreshold", "replicas", "behavior"),
                    "advanced", of("restoreToOriginalReplicaCount", ANY, "scalingModifiers", ANY,
                            // behavior is checked with fabric8's class (DeployManifestsTest).
                            "horizontalPodAutoscalerConfig", scalars("name", "behavior")),
                    "triggers", of("type", ANY, "name", ANY, "metricType", ANY, "useCachedMetrics", ANY,
                            "authenticationRef", scalars("name", "kind"),
                            // The prometheus scaler's parameters.
                            "metadata", scalars("serverAddress", "query", "threshold", "activationThreshold",
                                    "namespace", "customHeaders", "ignoreNullValues", "unsafeSsl", "queryParameters",
                                    "authModes"))),
            "inference.networking.k8s.io/v1 InferencePool", of(
                    "selector", of("matchLabels", ANY),
                    "targetPorts", scalars("number"),
                    "appProtocol", ANY,
                    "endpointPickerRef", of("group", ANY, "kind", ANY, "name", ANY, "port", scalars("number"),
                            "failureMode", ANY)),
            "gateway.networking.k8s.io/v1 HTTPRoute", of(
                    "parentRefs", scalars("group", "kind", "namespace", "name", "sectionName", "port"),
                    "hostnames", ANY,
                    "rules", of("name", ANY, "filters", ANY, "retry", ANY, "sessionPersistence", ANY,
                            "matches", of("path", scalars("type", "value"), "headers", ANY, "queryParams", ANY,
                                    "method", ANY),
                            "backendRefs", scalars("group", "kind", "name", "namespace", "port", "weight", "filters"),
                            "timeouts", scalars("request", "backendRequest"))));

    /** GIE v1.5.0's EndpointPickerConfig (apix/config/v1alpha1) and its core-metrics-extractor's parameters. */
    static final Shape ENDPOINT_PICKER_CONFIG = of(
            "apiVersion", ANY, "kind", ANY, "featureGates", ANY, "saturationDetector", ANY, "flowControl", ANY,
            "parser", ANY,
            "plugins", of("name", ANY, "type", ANY, "parameters", ANY),
            "schedulingProfiles", of("name", ANY, "plugins", scalars("pluginRef", "weight")),
            "dataLayer", of("sources", of("pluginRef", ANY, "extractors", scalars("pluginRef"))));

    static final Shape CORE_METRICS_EXTRACTOR = of(
            "engineLabelKey", ANY, "defaultEngine", ANY,
            "engineConfigs", scalars("name", "queuedRequestsSpec", "runningRequestsSpec", "kvUsageSpec", "loraSpec",
                    "cacheInfoSpec", "cacheBlockSizeLabelName", "cacheNumBlocksLabelName", "cacheBlockSizeSpec",
                    "cacheNumBlocksSpec"));

    /** The Prometheus Adapter's configuration file. */
    static final Shape ADAPTER_CONFIG = of(
            "rules", of("seriesQuery", ANY, "seriesFilters", ANY, "metricsQuery", ANY,
                    "resources", scalars("overrides", "template", "namespaced"),
                    "name", scalars("matches", "as")),
            "externalRules", ANY, "resourceRules", ANY);

    private CustomResourceShapes() {
    }
}
